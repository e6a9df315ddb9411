package io.nydus.rafs;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One chunk of a regular file: where its bytes are in a data blob, and what they hash to.
 *
 * <p>Deduplicated chunks share everything but {@link #fileOffset()}. The uncompressed offset addresses the blob's
 * uncompressed "cache" space (what the local blob cache file holds and what an EROFS device maps).
 */
public final class ChunkInfo {
    /** Chunk flag: data is compressed with the image's compressor. */
    public static final int FLAG_COMPRESSED = 0x1;
    /** Chunk flag: hole chunk (upstream internal, never written here). */
    public static final int FLAG_HOLECHUNK = 0x2;
    public static final int FLAG_ENCRYPTED = 0x4;
    public static final int FLAG_BATCH = 0x8;
    /** Chunk flag: {@link #crc32()} holds the CRC32C of the uncompressed data. */
    public static final int FLAG_HAS_CRC32 = 0x10;

    private final byte[] digest;
    private final int blobIndex;
    private final int flags;
    private final int compressedSize;
    private final int uncompressedSize;
    private final long compressedOffset;
    private final long uncompressedOffset;
    private final long fileOffset;
    private final int index;
    private final int crc32;

    public ChunkInfo(byte[] digest, int blobIndex, int flags, long compressedOffset, int compressedSize,
            long uncompressedOffset, int uncompressedSize, long fileOffset, int index, int crc32) {
        this.digest = digest;
        this.blobIndex = blobIndex;
        this.flags = flags;
        this.compressedSize = compressedSize;
        this.uncompressedSize = uncompressedSize;
        this.compressedOffset = compressedOffset;
        this.uncompressedOffset = uncompressedOffset;
        this.fileOffset = fileOffset;
        this.index = index;
        this.crc32 = crc32;
    }

    /** Digest of the uncompressed bytes (32 bytes); may be null for a v6 chunk not listed in the chunk table. */
    public byte[] digest() {
        return digest;
    }

    public int blobIndex() {
        return blobIndex;
    }

    public int flags() {
        return flags;
    }

    public boolean isCompressed() {
        return (flags & FLAG_COMPRESSED) != 0;
    }

    /** A chunk of zeros that is not stored anywhere (v5 files with HAS_HOLE). */
    public boolean isHole() {
        return (flags & FLAG_HOLECHUNK) != 0;
    }

    /** A hole of {@code size} zero bytes at {@code fileOffset}. */
    public static ChunkInfo hole(long fileOffset, int size) {
        return new ChunkInfo(null, -1, FLAG_HOLECHUNK, 0, 0, 0, size, fileOffset, -1, 0);
    }

    /** Whether the compressed extent is known (false for a v6 chunk missing from the chunk table). */
    public boolean isResolved() {
        return compressedOffset >= 0;
    }

    /** The same chunk with the extent a blob's ci table gives for it. */
    public ChunkInfo resolvedBy(ChunkInfo ci) {
        return new ChunkInfo(digest, blobIndex, ci.flags | (flags & ~FLAG_COMPRESSED), ci.compressedOffset,
                ci.compressedSize, ci.uncompressedOffset, ci.uncompressedSize, fileOffset, index, ci.crc32);
    }

    public boolean hasCrc32() {
        return (flags & FLAG_HAS_CRC32) != 0;
    }

    public int compressedSize() {
        return compressedSize;
    }

    public int uncompressedSize() {
        return uncompressedSize;
    }

    public long compressedOffset() {
        return compressedOffset;
    }

    public long uncompressedOffset() {
        return uncompressedOffset;
    }

    public long fileOffset() {
        return fileOffset;
    }

    /** Index of the chunk within its blob (the ci table entry). */
    public int index() {
        return index;
    }

    public int crc32() {
        return crc32;
    }

    /** The same stored chunk used at another offset of a file. */
    public ChunkInfo atFileOffset(long offset) {
        return new ChunkInfo(digest, blobIndex, flags, compressedOffset, compressedSize, uncompressedOffset,
                uncompressedSize, offset, index, crc32);
    }

    /** The same chunk moved to another blob slot (used when blob tables are merged). */
    public ChunkInfo withBlobIndex(int newBlobIndex) {
        return new ChunkInfo(digest, newBlobIndex, flags, compressedOffset, compressedSize, uncompressedOffset,
                uncompressedSize, fileOffset, index, crc32);
    }

    public String digestHex() {
        return digest == null ? "-" : HexFormat.of().formatHex(digest);
    }

    @Override
    public String toString() {
        return "chunk{blob=" + blobIndex + ", index=" + index + ", flags=0x" + Integer.toHexString(flags)
                + ", c=" + compressedOffset + "+" + compressedSize + ", u=" + uncompressedOffset + "+"
                + uncompressedSize + ", file=" + fileOffset + ", digest=" + digestHex() + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkInfo c && Arrays.equals(digest, c.digest) && blobIndex == c.blobIndex
                && flags == c.flags && compressedSize == c.compressedSize && uncompressedSize == c.uncompressedSize
                && compressedOffset == c.compressedOffset && uncompressedOffset == c.uncompressedOffset
                && fileOffset == c.fileOffset && index == c.index && crc32 == c.crc32;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(digest) * 31 + index * 17 + blobIndex + Long.hashCode(fileOffset);
    }
}
