package io.nydus.nydusify;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What {@code check} compares for one path of an image: type, permission bits, owner, mtime (with nanoseconds),
 * content (size and sha256), symlink target, device numbers, hard-link group and xattrs.
 *
 * @param attributes false when the source never described this directory (made implicitly): only its type counts
 * @param links      every path sharing this file's inode, sorted (empty when it has one name)
 */
public record FileRecord(String type, int mode, long uid, long gid, long mtimeSec, int mtimeNsec, long size,
        String sha256, String target, String device, List<String> links, Map<String, String> xattrs,
        boolean attributes) {

    public static String typeName(int fmt) {
        return switch (fmt) {
            case 0100000 -> "file";
            case 0040000 -> "dir";
            case 0120000 -> "symlink";
            case 0020000 -> "chr";
            case 0060000 -> "blk";
            case 0010000 -> "fifo";
            case 0140000 -> "sock";
            default -> "unknown(" + Integer.toOctalString(fmt) + ")";
        };
    }

    static Map<String, String> hexValues(Map<String, byte[]> xattrs) {
        Map<String, String> out = new TreeMap<>();
        xattrs.forEach((k, v) -> out.put(k, HexFormat.of().formatHex(v)));
        return out;
    }

    /** The fields in which {@code actual} differs from this (expected) record, as "name expected→actual". */
    public List<String> differences(FileRecord actual) {
        List<String> d = new ArrayList<>();
        diff(d, "type", type, actual.type);
        if (!type.equals(actual.type)) {
            return d;
        }
        if (attributes && actual.attributes) {
            diff(d, "mode", String.format("%04o", mode), String.format("%04o", actual.mode));
            diff(d, "uid", uid, actual.uid);
            diff(d, "gid", gid, actual.gid);
            diff(d, "mtime", mtimeSec + "." + String.format("%09d", mtimeNsec),
                    actual.mtimeSec + "." + String.format("%09d", actual.mtimeNsec));
            diff(d, "xattrs", xattrs, actual.xattrs);
        }
        if (type.equals("file")) {
            diff(d, "size", size, actual.size);
            diff(d, "sha256", sha256, actual.sha256);
        }
        diff(d, "target", target, actual.target);
        diff(d, "device", device, actual.device);
        diff(d, "links", links, actual.links);
        return d;
    }

    private static void diff(List<String> out, String field, Object e, Object a) {
        if (!Objects.equals(e, a)) {
            out.add(field + " " + e + " -> " + a);
        }
    }
}
