package io.nydus.builder;

import io.nydus.rafs.Xattrs;
import java.util.Map;
import java.util.TreeMap;

/** Keeps the xattrs RAFS can store and reports the others. */
final class XattrFilter {
    /** v6 stores value sizes in 16 bits. */
    private static final int MAX_VALUE = 65535;

    private XattrFilter() {
    }

    static Xattrs filter(Map<String, byte[]> raw, String path, Warnings warnings) {
        if (raw.isEmpty()) {
            return Xattrs.EMPTY;
        }
        TreeMap<String, byte[]> kept = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : raw.entrySet()) {
            String name = e.getKey();
            if (!Xattrs.isSupportedName(name)) {
                warnings.add("xattr with an unsupported prefix skipped", path + " " + name);
            } else if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Xattrs.MAX_NAME
                    || e.getValue().length > MAX_VALUE) {
                warnings.add("xattr too large skipped", path + " " + name);
            } else {
                kept.put(name, e.getValue());
            }
        }
        return Xattrs.of(kept);
    }
}
