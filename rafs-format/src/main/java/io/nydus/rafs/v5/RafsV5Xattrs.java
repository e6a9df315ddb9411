package io.nydus.rafs.v5;

import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.Xattrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * v5 xattrs: {@code u64 total_size}, then pairs {@code u32 pair_size, name, '\0', value} with
 * pair_size = name + 1 + value and total_size = sum(4 + pair_size); the block is padded to 8.
 */
public final class RafsV5Xattrs {
    private RafsV5Xattrs() {
    }

    /** Encodes to a padded block (u64 size included). */
    public static byte[] encode(Xattrs x) {
        int total = 0;
        for (Map.Entry<String, byte[]> e : x.asMap().entrySet()) {
            total += 4 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 1 + e.getValue().length;
        }
        ByteBuffer b = ByteBuffer.allocate(8 + ((total + 7) & ~7)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(total);
        for (Map.Entry<String, byte[]> e : x.asMap().entrySet()) {
            byte[] n = e.getKey().getBytes(StandardCharsets.UTF_8);
            b.putInt(n.length + 1 + e.getValue().length);
            b.put(n);
            b.put((byte) 0);
            b.put(e.getValue());
        }
        return b.array();
    }

    /** Size of the padded block at {@code pos}. */
    public static int blockSize(ByteBuffer b, int pos) {
        RafsFormatException.require((long) pos + 8 <= b.limit(), "v5 xattrs at %d outside the bootstrap", pos);
        long total = b.getLong(pos);
        RafsFormatException.require(total >= 0 && pos + 8 + total <= b.limit(), "v5 xattrs at %d: size %d", pos, total);
        return 8 + (int) ((total + 7) & ~7L);
    }

    public static Xattrs decode(ByteBuffer b, int pos) {
        int block = blockSize(b, pos);
        long total = b.getLong(pos);
        TreeMap<String, byte[]> m = new TreeMap<>();
        int p = pos + 8;
        int end = (int) (pos + 8 + total);
        while (p < end) {
            RafsFormatException.require(p + 4 <= end, "v5 xattrs at %d: truncated pair", pos);
            int pair = b.getInt(p);
            RafsFormatException.require(pair > 0 && p + 4L + pair <= end, "v5 xattrs at %d: pair size %d", pos, pair);
            int nul = -1;
            for (int i = 0; i < pair; i++) {
                if (b.get(p + 4 + i) == 0) {
                    nul = i;
                    break;
                }
            }
            RafsFormatException.require(nul > 0, "v5 xattrs at %d: pair without a name", pos);
            byte[] name = new byte[nul];
            b.get(p + 4, name);
            byte[] value = new byte[pair - nul - 1];
            b.get(p + 4 + nul + 1, value);
            m.put(new String(name, StandardCharsets.UTF_8), value);
            p += 4 + pair;
        }
        RafsFormatException.require(block >= 8, "v5 xattrs at %d", pos);
        return Xattrs.of(m);
    }
}
