package io.nydus.rafs.v6;

import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.Xattrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * EROFS inline xattrs, right after the inode.
 *
 * <pre>
 * header (12 bytes): u32 h_name_filter (0), u8 h_shared_count (0), 7 reserved
 * entry: u8 e_name_len (name without prefix), u8 e_name_index, u16 e_value_size, name suffix, value; padded to 4
 * </pre>
 * Name indexes: 1 {@code user.}, 2 {@code system.posix_acl_access}, 3 {@code system.posix_acl_default},
 * 4 {@code trusted.}, 6 {@code security.}. {@code i_xattr_icount} = (total - 12) / 4 + 1.
 */
public final class ErofsXattrs {
    public static final int HEADER_SIZE = 12;

    private static final String[] PREFIXES = {null, "user.", "system.posix_acl_access", "system.posix_acl_default",
        "trusted.", null, "security."};

    private ErofsXattrs() {
    }

    /** Encodes {@code xattrs} (header included); an empty set encodes to nothing. */
    public static byte[] encode(Xattrs xattrs) {
        if (xattrs.isEmpty()) {
            return new byte[0];
        }
        int total = HEADER_SIZE;
        for (Map.Entry<String, byte[]> e : xattrs.asMap().entrySet()) {
            total += entrySize(e.getKey(), e.getValue());
        }
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.position(HEADER_SIZE);
        for (Map.Entry<String, byte[]> e : xattrs.asMap().entrySet()) {
            int index = prefixIndex(e.getKey());
            byte[] suffix = e.getKey().substring(PREFIXES[index].length()).getBytes(StandardCharsets.UTF_8);
            int start = b.position();
            b.put((byte) suffix.length);
            b.put((byte) index);
            b.putShort((short) e.getValue().length);
            b.put(suffix);
            b.put(e.getValue());
            b.position(start + entrySize(e.getKey(), e.getValue()));
        }
        return b.array();
    }

    /** {@code i_xattr_icount} for an encoded area of {@code size} bytes. */
    public static int icount(int size) {
        return size == 0 ? 0 : (size - HEADER_SIZE) / 4 + 1;
    }

    private static int entrySize(String name, byte[] value) {
        int index = prefixIndex(name);
        int suffix = name.substring(PREFIXES[index].length()).getBytes(StandardCharsets.UTF_8).length;
        return (4 + suffix + value.length + 3) & ~3;
    }

    private static int prefixIndex(String name) {
        if (name.equals(PREFIXES[2])) {
            return 2;
        }
        if (name.equals(PREFIXES[3])) {
            return 3;
        }
        for (int i : new int[] {1, 4, 6}) {
            if (name.startsWith(PREFIXES[i])) {
                return i;
            }
        }
        throw new IllegalArgumentException("xattr name '" + name + "' has no RAFS prefix");
    }

    /** Decodes {@code size} bytes of inline xattrs at absolute position {@code pos}. */
    public static Xattrs decode(ByteBuffer b, int pos, int size, long nid) {
        RafsFormatException.require(size >= HEADER_SIZE && pos + (long) size <= b.limit(),
                "inode nid %d: xattr area outside the bootstrap", nid);
        RafsFormatException.require(b.get(pos + 4) == 0, "inode nid %d: shared xattrs are not supported", nid);
        TreeMap<String, byte[]> map = new TreeMap<>();
        int p = pos + HEADER_SIZE;
        int end = pos + size;
        while (p + 4 <= end) {
            int nameLen = b.get(p) & 0xFF;
            int index = b.get(p + 1) & 0xFF;
            int valueLen = b.getShort(p + 2) & 0xFFFF;
            RafsFormatException.require(p + 4 + nameLen + valueLen <= end,
                    "inode nid %d: xattr entry at %d overruns the xattr area", nid, p);
            RafsFormatException.require(index < PREFIXES.length && PREFIXES[index] != null,
                    "inode nid %d: unknown xattr name index %d", nid, index);
            byte[] suffix = new byte[nameLen];
            b.get(p + 4, suffix);
            byte[] value = new byte[valueLen];
            b.get(p + 4 + nameLen, value);
            map.put(PREFIXES[index] + new String(suffix, StandardCharsets.UTF_8), value);
            p += (4 + nameLen + valueLen + 3) & ~3;
        }
        return Xattrs.of(map);
    }
}
