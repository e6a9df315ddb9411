package io.nydus.rafs;

import java.util.HexFormat;

/**
 * A data blob referenced by a bootstrap: the union of what the v6 blob table ({@code RafsV6Blob}) and the v5 blob
 * plus extended blob tables record. Immutable; use {@link Builder} to make one.
 */
public final class BlobInfo {
    /** Placeholder id written into bootstraps inlined in their own blob (the blob id is not known yet then). */
    public static final String PLACEHOLDER_ID = "x".repeat(64);

    private final String blobId;
    private final int index;
    private final int chunkSize;
    private final int chunkCount;
    private final Compressor compressor;
    private final Digester digester;
    private final int features;
    private final long compressedSize;
    private final long uncompressedSize;
    private final int tocSize;
    private final Compressor ciCompressor;
    private final long ciOffset;
    private final long ciCompressedSize;
    private final long ciUncompressedSize;
    private final byte[] tocDigest;
    private final byte[] metaDigest;
    private final long metaSize;
    private final int prefetchOffset;
    private final int prefetchSize;

    private BlobInfo(Builder b) {
        this.blobId = b.blobId;
        this.index = b.index;
        this.chunkSize = b.chunkSize;
        this.chunkCount = b.chunkCount;
        this.compressor = b.compressor;
        this.digester = b.digester;
        this.features = b.features;
        this.compressedSize = b.compressedSize;
        this.uncompressedSize = b.uncompressedSize;
        this.tocSize = b.tocSize;
        this.ciCompressor = b.ciCompressor;
        this.ciOffset = b.ciOffset;
        this.ciCompressedSize = b.ciCompressedSize;
        this.ciUncompressedSize = b.ciUncompressedSize;
        this.tocDigest = b.tocDigest;
        this.metaDigest = b.metaDigest;
        this.metaSize = b.metaSize;
        this.prefetchOffset = b.prefetchOffset;
        this.prefetchSize = b.prefetchSize;
    }

    public String blobId() {
        return blobId;
    }

    /** Position in the blob table; chunks refer to blobs by this index. */
    public int index() {
        return index;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public int chunkCount() {
        return chunkCount;
    }

    public Compressor compressor() {
        return compressor;
    }

    public Digester digester() {
        return digester;
    }

    public int features() {
        return features;
    }

    public boolean hasFeature(int feature) {
        return (features & feature) != 0;
    }

    /** Size of the whole blob file. */
    public long compressedSize() {
        return compressedSize;
    }

    /** Size of the uncompressed chunk address space (the blob cache file). */
    public long uncompressedSize() {
        return uncompressedSize;
    }

    /** Bytes of TOC entries plus their 512-byte tar header; 0 when the blob has no TOC. */
    public int tocSize() {
        return tocSize;
    }

    public Compressor ciCompressor() {
        return ciCompressor;
    }

    public long ciOffset() {
        return ciOffset;
    }

    public long ciCompressedSize() {
        return ciCompressedSize;
    }

    public long ciUncompressedSize() {
        return ciUncompressedSize;
    }

    /** sha256 of the TOC entries and their tar header (32 bytes, zero when there is no TOC). */
    public byte[] tocDigest() {
        return tocDigest.clone();
    }

    public byte[] metaDigest() {
        return metaDigest.clone();
    }

    public long metaSize() {
        return metaSize;
    }

    /** v5 blob table: readahead (prefetch) range of this blob. */
    public int prefetchOffset() {
        return prefetchOffset;
    }

    public int prefetchSize() {
        return prefetchSize;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.blobId = blobId;
        b.index = index;
        b.chunkSize = chunkSize;
        b.chunkCount = chunkCount;
        b.compressor = compressor;
        b.digester = digester;
        b.features = features;
        b.compressedSize = compressedSize;
        b.uncompressedSize = uncompressedSize;
        b.tocSize = tocSize;
        b.ciCompressor = ciCompressor;
        b.ciOffset = ciOffset;
        b.ciCompressedSize = ciCompressedSize;
        b.ciUncompressedSize = ciUncompressedSize;
        b.tocDigest = tocDigest.clone();
        b.metaDigest = metaDigest.clone();
        b.metaSize = metaSize;
        b.prefetchOffset = prefetchOffset;
        b.prefetchSize = prefetchSize;
        return b;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "blob{" + index + ": " + blobId + ", chunks=" + chunkCount + ", c=" + compressedSize + ", u="
                + uncompressedSize + ", " + compressor.cliName() + "/" + digester.cliName() + ", features=0x"
                + Integer.toHexString(features) + ", ci=" + ciOffset + "+" + ciCompressedSize + "/"
                + ciUncompressedSize + ", toc=" + tocSize + " " + HexFormat.of().formatHex(tocDigest) + "}";
    }

    /** Mutable builder; every field defaults to zero / none / BLAKE3. */
    public static final class Builder {
        private String blobId = "";
        private int index;
        private int chunkSize;
        private int chunkCount;
        private Compressor compressor = Compressor.NONE;
        private Digester digester = Digester.BLAKE3;
        private int features;
        private long compressedSize;
        private long uncompressedSize;
        private int tocSize;
        private Compressor ciCompressor = Compressor.NONE;
        private long ciOffset;
        private long ciCompressedSize;
        private long ciUncompressedSize;
        private byte[] tocDigest = new byte[32];
        private byte[] metaDigest = new byte[32];
        private long metaSize;
        private int prefetchOffset;
        private int prefetchSize;

        public Builder blobId(String v) { blobId = v; return this; }
        public Builder index(int v) { index = v; return this; }
        public Builder chunkSize(int v) { chunkSize = v; return this; }
        public Builder chunkCount(int v) { chunkCount = v; return this; }
        public Builder compressor(Compressor v) { compressor = v; return this; }
        public Builder digester(Digester v) { digester = v; return this; }
        public Builder features(int v) { features = v; return this; }
        public Builder compressedSize(long v) { compressedSize = v; return this; }
        public Builder uncompressedSize(long v) { uncompressedSize = v; return this; }
        public Builder tocSize(int v) { tocSize = v; return this; }
        public Builder ciCompressor(Compressor v) { ciCompressor = v; return this; }
        public Builder ciOffset(long v) { ciOffset = v; return this; }
        public Builder ciCompressedSize(long v) { ciCompressedSize = v; return this; }
        public Builder ciUncompressedSize(long v) { ciUncompressedSize = v; return this; }
        public Builder tocDigest(byte[] v) { tocDigest = v.clone(); return this; }
        public Builder metaDigest(byte[] v) { metaDigest = v.clone(); return this; }
        public Builder metaSize(long v) { metaSize = v; return this; }
        public Builder prefetchOffset(int v) { prefetchOffset = v; return this; }
        public Builder prefetchSize(int v) { prefetchSize = v; return this; }

        public BlobInfo build() {
            return new BlobInfo(this);
        }
    }
}
