package io.nydus.rafs.v6;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One EROFS device table slot (128 bytes), at 1408 + 128 * i; slot i is blob i, EROFS device id i + 1.
 *
 * <pre>
 * off size field
 *   0   64 blob_id          ASCII hex
 *  64    4 blocks           blob uncompressed size / block size
 *  68    4 mapped_blkaddr   start block of the blob in the flat address space of a block-device export
 *  72   56 reserved
 * </pre>
 */
public record RafsV6Device(String blobId, long blocks, long mappedBlkaddr) {
    public static final int SIZE = 128;
    public static final int TABLE_OFFSET = 1408;

    public void write(ByteBuffer b, int pos) {
        byte[] id = blobId.getBytes(StandardCharsets.US_ASCII);
        b.put(pos, id, 0, Math.min(64, id.length));
        b.putInt(pos + 64, (int) blocks);
        b.putInt(pos + 68, (int) mappedBlkaddr);
    }

    public static RafsV6Device read(ByteBuffer b, int pos) {
        byte[] id = new byte[64];
        b.get(pos, id);
        int len = 0;
        while (len < 64 && id[len] != 0) {
            len++;
        }
        return new RafsV6Device(new String(id, 0, len, StandardCharsets.US_ASCII), b.getInt(pos + 64) & 0xFFFF_FFFFL,
                b.getInt(pos + 68) & 0xFFFF_FFFFL);
    }
}
