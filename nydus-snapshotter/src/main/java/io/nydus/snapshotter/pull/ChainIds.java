package io.nydus.snapshotter.pull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * OCI chain ids: the name of the snapshot holding layers 0..i applied in order, which is what containerd and the
 * snapshotter call a committed layer. {@code chain(0) = diff_id(0)}, {@code chain(i) = sha256(chain(i-1) + " " +
 * diff_id(i))}.
 */
final class ChainIds {
    private ChainIds() {
    }

    static List<String> of(List<String> diffIds) {
        List<String> chain = new ArrayList<>(diffIds.size());
        String previous = null;
        for (String diffId : diffIds) {
            previous = previous == null ? diffId : next(previous, diffId);
            chain.add(previous);
        }
        return chain;
    }

    private static String next(String parent, String diffId) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((parent + " " + diffId)
                    .getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
