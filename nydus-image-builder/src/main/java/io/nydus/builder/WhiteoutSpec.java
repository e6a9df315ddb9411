package io.nydus.builder;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.TreeEntry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How a layer marks deletions (notes §4.3). OCI: {@code .wh.<name>} removes {@code <name>} from lower layers and
 * {@code .wh..wh..opq} hides all lower children of its directory. overlayfs: a 0/0 character device removes the
 * same-named entry; a directory with {@code trusted.overlay.opaque="y"} is opaque. none: nothing is special.
 */
public enum WhiteoutSpec {
    OCI, OVERLAYFS, NONE;

    static final byte[] WH_PREFIX = ".wh.".getBytes(StandardCharsets.US_ASCII);
    static final byte[] OPAQUE_MARKER = ".wh..wh..opq".getBytes(StandardCharsets.US_ASCII);
    static final String OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

    public static WhiteoutSpec parse(String s) {
        return switch (s) {
            case "oci" -> OCI;
            case "overlayfs" -> OVERLAYFS;
            case "none" -> NONE;
            default -> throw new IllegalArgumentException("unknown whiteout spec '" + s + "' (expected oci, overlayfs or none)");
        };
    }

    /** Whether the entry only marks something (a whiteout or an opaque marker) and is not itself content. */
    boolean isMarker(TreeEntry e) {
        return switch (this) {
            case OCI -> startsWith(e.name(), WH_PREFIX);
            case OVERLAYFS -> FileMode.isChr(e.inode().mode) && e.inode().rdev == 0;
            case NONE -> false;
        };
    }

    /** The name a whiteout entry removes; null for opaque markers and ordinary entries. */
    byte[] whiteoutTarget(TreeEntry e) {
        if (!isMarker(e)) {
            return null;
        }
        if (this == OCI) {
            return Arrays.equals(e.name(), OPAQUE_MARKER) ? null : Arrays.copyOfRange(e.name(), WH_PREFIX.length, e.name().length);
        }
        return e.name();
    }

    /** Whether a directory of the upper layer hides everything below it in lower layers. */
    boolean isOpaque(TreeEntry dir) {
        return switch (this) {
            case OCI -> dir.child(OPAQUE_MARKER) != null;
            case OVERLAYFS -> {
                byte[] v = dir.inode().xattrs.get(OVERLAY_OPAQUE_XATTR);
                yield v != null && v.length == 1 && v[0] == 'y';
            }
            case NONE -> false;
        };
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }
}
