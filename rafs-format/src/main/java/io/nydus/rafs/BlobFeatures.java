package io.nydus.rafs;

/** Bits of {@code BlobFeatures} (u32) in v6 blob tables, v5 extended blob tables and ci headers (notes §2.7). */
public final class BlobFeatures {
    public static final int ALIGNED = 0x1;
    public static final int INLINED_FS_META = 0x2;
    public static final int CHUNK_INFO_V2 = 0x4;
    public static final int ZRAN = 0x8;
    public static final int SEPARATE = 0x10;
    public static final int INLINED_CHUNK_DIGEST = 0x20;
    public static final int TARFS = 0x40;
    public static final int BATCH = 0x80;
    public static final int ENCRYPTED = 0x100;
    public static final int IS_CHUNKDICT_GENERATED = 0x200;
    public static final int IS_SEPARATED_WITH_PREFETCH_FILES = 0x400;
    public static final int EXTERNAL = 0x800;
    public static final int HAS_TAR_HEADER = 0x1000_0000;
    public static final int HAS_TOC = 0x2000_0000;
    public static final int CAP_TAR_TOC = 0x4000_0000;
    /** Internal only: a v5 image without an extended blob table. Never written. */
    public static final int V5_NO_EXT_BLOB_TABLE = 0x8000_0000;

    /** Bits 0..15 are incompatible features; of those, only the ones in {@link #KNOWN_INCOMPAT} are understood. */
    public static final int INCOMPAT_MASK = 0xFFFF;
    public static final int KNOWN_INCOMPAT = 0x0FFF;

    private BlobFeatures() {
    }

    /** Rejects features this reader does not understand (bits 12..15). */
    public static void checkSupported(int features, String where) {
        int unknown = features & INCOMPAT_MASK & ~KNOWN_INCOMPAT;
        RafsFormatException.require(unknown == 0, "%s: unsupported blob features 0x%x", where, unknown);
    }
}
