package io.nydus.rafs.blob;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsFormatException;
import java.io.IOException;
import java.util.Arrays;

/**
 * A blob's ci table with its header: loaded from the blob itself (compressed, at {@code ci_offset}) or from the
 * local cache file {@code <blob_id>.blob.meta}, whose layout is
 * {@code [uncompressed ci, zero padded to 4096][header 4096 B]}.
 */
public final class BlobMeta {
    /** ci tables larger than this are refused (2^24 chunks of 24 bytes, the format's limit, plus contexts). */
    private static final long MAX_CI = (1L << 24) * CiTable.V2_SIZE + (64L << 20);

    private final CiHeader header;
    private final byte[] uncompressed;

    private BlobMeta(CiHeader header, byte[] uncompressed) {
        this.header = header;
        this.uncompressed = uncompressed;
    }

    public CiHeader header() {
        return header;
    }

    public CiTable table(int blobIndex) {
        return CiTable.of(uncompressed, header.features(), header.entries(), blobIndex);
    }

    /** Reads the ci table that {@code blob} records at its {@code ci_offset}. */
    public static BlobMeta fromBlob(BlobReader reader, BlobInfo blob) throws IOException {
        long csize = blob.ciCompressedSize();
        long usize = blob.ciUncompressedSize();
        RafsFormatException.require(csize >= 0 && csize <= MAX_CI && usize >= 0 && usize <= MAX_CI,
                "blob %s: ci table sizes %d/%d out of range", blob.blobId(), csize, usize);
        RafsFormatException.require(blob.ciOffset() >= 0 && blob.ciOffset() + csize + CiHeader.SIZE <= reader.size(),
                "blob %s: ci table [%d, +%d) beyond the blob (%d bytes)", blob.blobId(), blob.ciOffset(),
                csize + CiHeader.SIZE, reader.size());
        byte[] raw = reader.read(blob.ciOffset(), (int) (csize + CiHeader.SIZE));
        CiHeader h = CiHeader.decode(raw, (int) csize);
        RafsFormatException.require(h.ciCompressedSize() == csize && h.ciUncompressedSize() == usize
                && h.entries() == blob.chunkCount(),
                "blob %s: ci header (%d entries, %d/%d bytes) disagrees with the blob table (%d, %d/%d)",
                blob.blobId(), h.entries(), h.ciCompressedSize(), h.ciUncompressedSize(), blob.chunkCount(), csize,
                usize);
        byte[] ci;
        if (h.ciCompressor() == io.nydus.rafs.Compressor.NONE) {
            RafsFormatException.require(csize == usize, "blob %s: raw ci table with different sizes %d/%d",
                    blob.blobId(), csize, usize);
            ci = Arrays.copyOf(raw, (int) csize);
        } else {
            ci = h.ciCompressor().decompress(Arrays.copyOf(raw, (int) csize), (int) usize);
        }
        return new BlobMeta(h, ci);
    }

    /** Decodes a {@code <blob_id>.blob.meta} cache file. */
    public static BlobMeta fromCacheFile(byte[] file) {
        RafsFormatException.require(file.length >= CiHeader.SIZE && file.length % 4096 == 0,
                "blob meta file: %d bytes is not a multiple of 4096", file.length);
        CiHeader h = CiHeader.decode(file, file.length - CiHeader.SIZE);
        RafsFormatException.require(roundUp4k(h.ciUncompressedSize()) == file.length - CiHeader.SIZE,
                "blob meta file: %d bytes, header says %d bytes of ci data", file.length,
                h.ciUncompressedSize());
        return new BlobMeta(h, Arrays.copyOf(file, (int) h.ciUncompressedSize()));
    }

    /** Encodes the {@code <blob_id>.blob.meta} cache file. */
    public byte[] toCacheFile() {
        int padded = (int) roundUp4k(uncompressed.length);
        byte[] out = new byte[padded + CiHeader.SIZE];
        System.arraycopy(uncompressed, 0, out, 0, uncompressed.length);
        System.arraycopy(header.encode(), 0, out, padded, CiHeader.SIZE);
        return out;
    }

    private static long roundUp4k(long v) {
        return (v + 4095) & ~4095L;
    }
}
