package io.nydus.rafs.blob;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;

/**
 * {@code RafsV5ChunkInfo}: the 80-byte chunk record of v5 inodes, also the entry of the v6 chunk table.
 *
 * <pre>
 * off size field
 *   0   32 block_id            digest of the uncompressed chunk
 *  32    4 blob_index
 *  36    4 flags               COMPRESSED 0x1, HOLECHUNK 0x2, ENCRYPTED 0x4, BATCH 0x8, HAS_CRC32 0x10
 *  40    4 compressed_size
 *  44    4 uncompressed_size
 *  48    8 compressed_offset   absolute offset in the data blob
 *  56    8 uncompressed_offset offset in the blob's uncompressed address space
 *  64    8 file_offset
 *  72    4 index               index of the chunk within its blob
 *  76    4 crc32               CRC32C of the uncompressed data (only with HAS_CRC32)
 * </pre>
 */
public final class ChunkRecord {
    public static final int SIZE = 80;
    /** Largest chunk the formats can describe (16 MiB). */
    public static final int MAX_CHUNK_SIZE = 0x100_0000;
    public static final int MIN_CHUNK_SIZE = 0x1000;

    /** An image's chunk size: a power of two from 4 KiB to 16 MiB. */
    public static boolean isValidChunkSize(long size) {
        return size >= MIN_CHUNK_SIZE && size <= MAX_CHUNK_SIZE && Long.bitCount(size) == 1;
    }

    private ChunkRecord() {
    }

    public static void write(ChunkInfo c, ByteBuffer out) {
        out.put(c.digest());
        out.putInt(c.blobIndex());
        out.putInt(c.flags());
        out.putInt(c.compressedSize());
        out.putInt(c.uncompressedSize());
        out.putLong(c.compressedOffset());
        out.putLong(c.uncompressedOffset());
        out.putLong(c.fileOffset());
        out.putInt(c.index());
        out.putInt(c.crc32());
    }

    /** Decodes the record at absolute position {@code pos} of a little-endian buffer. */
    public static ChunkInfo read(ByteBuffer buf, int pos) {
        RafsFormatException.require(pos >= 0 && pos + SIZE <= buf.limit(),
                "chunk record at offset %d is outside the bootstrap (%d bytes)", pos, buf.limit());
        byte[] digest = new byte[32];
        buf.get(pos, digest);
        int usize = buf.getInt(pos + 44);
        int csize = buf.getInt(pos + 40);
        RafsFormatException.require(usize >= 0 && usize <= MAX_CHUNK_SIZE && csize >= 0,
                "chunk record at offset %d: bad sizes (compressed %d, uncompressed %d)", pos, csize, usize);
        long coff = buf.getLong(pos + 48);
        long uoff = buf.getLong(pos + 56);
        long foff = buf.getLong(pos + 64);
        RafsFormatException.require(coff >= 0 && uoff >= 0 && foff >= 0,
                "chunk record at offset %d: negative offset", pos);
        return new ChunkInfo(digest, buf.getInt(pos + 32), buf.getInt(pos + 36), coff, csize, uoff, usize, foff,
                buf.getInt(pos + 72), buf.getInt(pos + 76));
    }
}
