package io.nydus.rafs;

/** Bits of {@code RafsSuperFlags}, the u64 flags word of the v5 superblock and the v6 extended superblock (notes §3.1). */
public final class SuperFlags {
    public static final long COMPRESSION_NONE = 0x1;
    public static final long COMPRESSION_LZ4 = 0x2;
    public static final long HASH_BLAKE3 = 0x4;
    public static final long HASH_SHA256 = 0x8;
    public static final long EXPLICIT_UID_GID = 0x10;
    public static final long HAS_XATTR = 0x20;
    public static final long COMPRESSION_GZIP = 0x40;
    public static final long COMPRESSION_ZSTD = 0x80;
    public static final long INLINED_CHUNK_DIGEST = 0x100;
    public static final long TARTFS_MODE = 0x200;
    public static final long ENCRYPTION_NONE = 0x0100_0000;
    public static final long ENCRYPTION_ASE_128_XTS = 0x0200_0000;

    public static final long COMPRESSION_MASK = COMPRESSION_NONE | COMPRESSION_LZ4 | COMPRESSION_GZIP | COMPRESSION_ZSTD;
    public static final long HASH_MASK = HASH_BLAKE3 | HASH_SHA256;

    private SuperFlags() {
    }
}
