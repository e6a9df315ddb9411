package io.nydus.rafs.blob;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The uncompressed ci table of one blob: chunk index → compressed and uncompressed extents.
 *
 * <p>{@code BlobChunkInfoV1Ondisk}, 16 bytes (the default):
 * <pre>
 * word0 uncomp_info: bits 12..43 uncompressed offset (4K aligned), bits 8..11 bits 20..23 of (usize-1),
 *                    bits 44..63 bits 0..19 of (usize-1)
 * word1 comp_info:   bits 0..39 compressed offset, bits 40..43 bits 20..23 of (csize-1),
 *                    bits 44..63 bits 0..19 of (csize-1)
 * </pre>
 * Compressed is implied by csize != usize.
 *
 * <p>{@code BlobChunkInfoV2Ondisk}, 24 bytes (batch, zran, encryption):
 * <pre>
 * uncomp_info: bits 0..31 uncompressed offset >> 12, bits 32..55 usize-1,
 *              bits 56..63 flags (0x01 compressed, 0x02 zran, 0x04 batch, 0x08 encrypted, 0x10 has_crc32)
 * comp_info:   bits 0..39 compressed offset, bits 40..63 compressed size
 * data:        zran: hi32 context index, lo32 offset in its output; batch: hi32 batch index, lo32 offset;
 *              otherwise lo32 = crc32 when has_crc32
 * </pre>
 */
public final class CiTable {
    public static final int V1_SIZE = 16;
    public static final int V2_SIZE = 24;

    private static final long V2_COMPRESSED = 0x01;
    private static final long V2_ZRAN = 0x02;
    private static final long V2_BATCH = 0x04;
    private static final long V2_HAS_CRC32 = 0x10;

    private final ByteBuffer data;
    private final boolean v2;
    private final int entries;
    private final int blobIndex;

    private CiTable(ByteBuffer data, boolean v2, int entries, int blobIndex) {
        this.data = data;
        this.v2 = v2;
        this.entries = entries;
        this.blobIndex = blobIndex;
    }

    /**
     * Wraps uncompressed ci data of a blob whose header has {@code features} and {@code entries} chunks.
     *
     * @param blobIndex the blob slot to report in the chunks it decodes
     */
    public static CiTable of(byte[] uncompressed, int features, int entries, int blobIndex) {
        boolean v2 = (features & BlobFeatures.CHUNK_INFO_V2) != 0;
        int size = v2 ? V2_SIZE : V1_SIZE;
        RafsFormatException.require(entries >= 0 && (long) entries * size <= uncompressed.length,
                "blob meta: %d entries need %d bytes, ci table has %d", entries, (long) entries * size,
                uncompressed.length);
        return new CiTable(ByteBuffer.wrap(uncompressed).order(ByteOrder.LITTLE_ENDIAN), v2, entries, blobIndex);
    }

    public int entries() {
        return entries;
    }

    public boolean isV2() {
        return v2;
    }

    /** Chunk {@code i} without digest (ci tables carry none) and with file offset 0. */
    public ChunkInfo chunk(int i) {
        RafsFormatException.require(i >= 0 && i < entries, "chunk index %d outside blob meta (%d entries)", i,
                entries);
        if (v2) {
            long u = data.getLong(i * V2_SIZE);
            long c = data.getLong(i * V2_SIZE + 8);
            long d = data.getLong(i * V2_SIZE + 16);
            long flags8 = u >>> 56;
            RafsFormatException.require((flags8 & (V2_ZRAN | V2_BATCH)) == 0,
                    "blob meta chunk %d: zran/batch chunks are not supported", i);
            long uoff = (u & 0xFFFF_FFFFL) << 12;
            int usize = (int) ((u >>> 32) & 0xFF_FFFF) + 1;
            long coff = c & 0xFF_FFFF_FFFFL;
            int csize = (int) (c >>> 40);
            int flags = ((flags8 & V2_COMPRESSED) != 0 ? ChunkInfo.FLAG_COMPRESSED : 0)
                    | ((flags8 & V2_HAS_CRC32) != 0 ? ChunkInfo.FLAG_HAS_CRC32 : 0);
            int crc = (flags8 & V2_HAS_CRC32) != 0 ? (int) d : 0;
            return new ChunkInfo(null, blobIndex, flags, coff, csize, uoff, usize, 0, i, crc);
        }
        long u = data.getLong(i * V1_SIZE);
        long c = data.getLong(i * V1_SIZE + 8);
        long uoff = u & 0xFFF_FFFF_F000L;
        int usize = (int) ((((u >>> 8) & 0xF) << 20) | (u >>> 44)) + 1;
        long coff = c & 0xFF_FFFF_FFFFL;
        int csize = (int) ((((c >>> 40) & 0xF) << 20) | (c >>> 44)) + 1;
        int flags = csize != usize ? ChunkInfo.FLAG_COMPRESSED : 0;
        return new ChunkInfo(null, blobIndex, flags, coff, csize, uoff, usize, 0, i, 0);
    }

    /** Encodes one V1 entry. */
    public static void writeV1(ByteBuffer out, long uncompressedOffset, int uncompressedSize, long compressedOffset,
            int compressedSize) {
        long us = uncompressedSize - 1L;
        long cs = compressedSize - 1L;
        long u = (uncompressedOffset & 0xFFF_FFFF_F000L) | (((us >>> 20) & 0xF) << 8) | ((us & 0xF_FFFF) << 44);
        long c = (compressedOffset & 0xFF_FFFF_FFFFL) | (((cs >>> 20) & 0xF) << 40) | ((cs & 0xF_FFFF) << 44);
        out.putLong(u);
        out.putLong(c);
    }

    /** Encodes one V2 entry of a plain (not zran, not batch) chunk. */
    public static void writeV2(ByteBuffer out, long uncompressedOffset, int uncompressedSize, long compressedOffset,
            int compressedSize, boolean compressed, Integer crc32) {
        if (compressedSize >= (1 << 24) || uncompressedSize > (1 << 24)) {
            throw new IllegalArgumentException("chunk too large for a V2 ci entry");
        }
        long flags = (compressed ? V2_COMPRESSED : 0) | (crc32 != null ? V2_HAS_CRC32 : 0);
        long u = ((uncompressedOffset >>> 12) & 0xFFFF_FFFFL) | (((uncompressedSize - 1L) & 0xFF_FFFF) << 32)
                | (flags << 56);
        long c = (compressedOffset & 0xFF_FFFF_FFFFL) | ((long) compressedSize << 40);
        out.putLong(u);
        out.putLong(c);
        out.putLong(crc32 == null ? 0 : crc32 & 0xFFFF_FFFFL);
    }
}
