package io.nydus.rafs.v5;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * v5 blob table and extended blob table.
 *
 * <p>Blob table: entries {@code u32 readahead_offset, u32 readahead_size, blob id bytes}, separated by a single
 * NUL (none after the last), zero padded to 8.
 *
 * <p>Extended blob table, 64 bytes per blob:
 * <pre>
 * off size field
 *   0    4 chunk_count
 *   4    4 features
 *   8    8 uncompressed_size
 *  16    8 compressed_size
 *  24   40 reserved
 * </pre>
 */
public final class RafsV5BlobTable {
    public static final int EXT_ENTRY_SIZE = 64;

    private RafsV5BlobTable() {
    }

    public static byte[] encodeTable(java.util.List<BlobInfo> blobs) {
        int size = 0;
        for (int i = 0; i < blobs.size(); i++) {
            size += 8 + blobs.get(i).blobId().length() + (i + 1 < blobs.size() ? 1 : 0);
        }
        ByteBuffer b = ByteBuffer.allocate((size + 7) & ~7).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < blobs.size(); i++) {
            BlobInfo bi = blobs.get(i);
            b.putInt(bi.prefetchOffset());
            b.putInt(bi.prefetchSize());
            b.put(bi.blobId().getBytes(StandardCharsets.US_ASCII));
            if (i + 1 < blobs.size()) {
                b.put((byte) 0);
            }
        }
        return b.array();
    }

    public static byte[] encodeExtTable(java.util.List<BlobInfo> blobs) {
        ByteBuffer b = ByteBuffer.allocate(EXT_ENTRY_SIZE * blobs.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (BlobInfo bi : blobs) {
            int start = b.position();
            b.putInt(bi.chunkCount());
            b.putInt(bi.features());
            b.putLong(bi.uncompressedSize());
            b.putLong(bi.compressedSize());
            b.position(start + EXT_ENTRY_SIZE);
        }
        return b.array();
    }

    /** One decoded blob table entry. */
    public record Entry(int readaheadOffset, int readaheadSize, String blobId) {
    }

    public static java.util.List<Entry> decodeTable(ByteBuffer b, int pos, int size) {
        java.util.List<Entry> out = new java.util.ArrayList<>();
        int p = pos;
        int end = pos + size;
        while (p + 8 < end) {
            int ra = b.getInt(p);
            int rs = b.getInt(p + 4);
            int q = p + 8;
            while (q < end && b.get(q) != 0) {
                q++;
            }
            if (q == p + 8) {
                break; // padding
            }
            byte[] id = new byte[q - p - 8];
            b.get(p + 8, id);
            String blobId = new String(id, StandardCharsets.US_ASCII);
            RafsFormatException.require(blobId.length() <= 128 && blobId.chars().allMatch(c -> c > 32 && c < 127),
                    "v5 blob table: invalid blob id at %d", p + 8);
            out.add(new Entry(ra, rs, blobId));
            p = q + 1;
        }
        return out;
    }
}
