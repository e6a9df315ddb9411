package io.nydus.rafs.v6;

import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.SuperFlags;
import io.nydus.rafs.blob.ChunkRecord;
import java.nio.ByteBuffer;

/**
 * The nydus extension of the EROFS superblock, at byte 1152 (256 bytes).
 *
 * <pre>
 * off size field
 *   0    8 s_flags                RafsSuperFlags: one compression bit, one hash bit, ...
 *   8    8 s_blob_table_offset    4K aligned
 *  16    4 s_blob_table_size      multiple of 256
 *  20    4 s_chunk_size           power of two, 4 KiB .. 16 MiB
 *  24    8 s_chunk_table_offset   4K aligned
 *  32    8 s_chunk_table_size     multiple of 80
 *  40    8 s_prefetch_table_offset
 *  48    4 s_prefetch_table_size  bytes, multiple of 4
 *  52    4 padding
 *  56  200 reserved
 * </pre>
 */
public record RafsV6SuperBlockExt(long flags, long blobTableOffset, int blobTableSize, int chunkSize,
        long chunkTableOffset, long chunkTableSize, long prefetchTableOffset, int prefetchTableSize) {

    public static final int OFFSET = 1152;
    public static final int SIZE = 256;

    public void write(ByteBuffer b) {
        b.putLong(OFFSET, flags);
        b.putLong(OFFSET + 8, blobTableOffset);
        b.putInt(OFFSET + 16, blobTableSize);
        b.putInt(OFFSET + 20, chunkSize);
        b.putLong(OFFSET + 24, chunkTableOffset);
        b.putLong(OFFSET + 32, chunkTableSize);
        b.putLong(OFFSET + 40, prefetchTableOffset);
        b.putInt(OFFSET + 48, prefetchTableSize);
    }

    public static RafsV6SuperBlockExt read(ByteBuffer b) {
        RafsFormatException.require(b.limit() >= OFFSET + SIZE, "RAFS v6 bootstrap truncated before the extended superblock");
        long flags = b.getLong(OFFSET);
        int compressions = Long.bitCount(flags & SuperFlags.COMPRESSION_MASK);
        int hashes = Long.bitCount(flags & SuperFlags.HASH_MASK);
        RafsFormatException.require(compressions <= 1 && hashes <= 1,
                "RAFS v6 extended superblock: flags 0x%x name several compressors or digesters", flags);
        int chunkSize = b.getInt(OFFSET + 20);
        RafsFormatException.require(ChunkRecord.isValidChunkSize(chunkSize),
                "RAFS v6 extended superblock: invalid chunk size 0x%x", chunkSize);
        return new RafsV6SuperBlockExt(flags, b.getLong(OFFSET + 8), b.getInt(OFFSET + 16), chunkSize,
                b.getLong(OFFSET + 24), b.getLong(OFFSET + 32), b.getLong(OFFSET + 40), b.getInt(OFFSET + 48));
    }
}
