package io.nydus.blobcache.registry;

import java.util.HexFormat;
import java.util.Random;

/** Random blobs and their digests for registry tests. */
final class TestBlobs {
    private TestBlobs() {
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String digest(byte[] b) {
        return "sha256:" + HexFormat.of().formatHex(io.nydus.rafs.Digester.sha256().digest(b));
    }

    /** Pushes {@code blob} to {@code repo} of a plain-HTTP registry; returns its digest. */
    static String push(String host, String repo, byte[] blob) throws Exception {
        String digest = digest(blob);
        try (RegistryClient c = new RegistryClient(RegistrySettings.builder(host).scheme("http").build())) {
            c.pushBlob(repo, digest, BlobSource.ofBytes(blob));
        }
        return digest;
    }

    /** The hex part of a sha256 digest: the nydus blob id. */
    static String id(String digest) {
        return digest.substring("sha256:".length());
    }
}
