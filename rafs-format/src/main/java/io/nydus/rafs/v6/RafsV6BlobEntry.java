package io.nydus.rafs.v6;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code RafsV6Blob}: one 256-byte entry of the v6 blob table.
 *
 * <pre>
 * off size field
 *   0   64 blob_id               ASCII, zero padded
 *  64    4 blob_index            equals the entry's position
 *  68    4 chunk_size            equals the superblock chunk size
 *  72    4 chunk_count           at most 2^24
 *  76    4 compression_algo      0 none, 1 lz4_block, 2 gzip, 3 zstd
 *  80    4 digest_algo           0 blake3, 1 sha256
 *  84    4 features              BlobFeatures
 *  88    8 compressed_size       size of the blob file
 *  96    8 uncompressed_size     end of the last (4K aligned) uncompressed chunk
 * 104    4 blob_toc_size         TOC entries + 512-byte tar header
 * 108    4 ci_compressor
 * 112    8 ci_offset
 * 120    8 ci_compressed_size
 * 128    8 ci_uncompressed_size
 * 136   32 blob_toc_digest       sha256(TOC entries + TOC tar header)
 * 168   32 blob_meta_digest
 * 200    8 blob_meta_size
 * 208    8 cipher_iv
 * 216    4 cipher_algo           0 none
 * 220   36 reserved
 * </pre>
 */
public final class RafsV6BlobEntry {
    public static final int SIZE = 256;

    private RafsV6BlobEntry() {
    }

    public static void write(BlobInfo blob, ByteBuffer b, int pos) {
        byte[] id = blob.blobId().getBytes(StandardCharsets.US_ASCII);
        b.put(pos, id, 0, Math.min(64, id.length));
        b.putInt(pos + 64, blob.index());
        b.putInt(pos + 68, blob.chunkSize());
        b.putInt(pos + 72, blob.chunkCount());
        b.putInt(pos + 76, blob.compressor().id());
        b.putInt(pos + 80, blob.digester().id());
        b.putInt(pos + 84, blob.features());
        b.putLong(pos + 88, blob.compressedSize());
        b.putLong(pos + 96, blob.uncompressedSize());
        b.putInt(pos + 104, blob.tocSize());
        b.putInt(pos + 108, blob.ciCompressor().id());
        b.putLong(pos + 112, blob.ciOffset());
        b.putLong(pos + 120, blob.ciCompressedSize());
        b.putLong(pos + 128, blob.ciUncompressedSize());
        b.put(pos + 136, blob.tocDigest());
        b.put(pos + 168, blob.metaDigest());
        b.putLong(pos + 200, blob.metaSize());
    }

    public static BlobInfo read(ByteBuffer b, int pos, int expectedIndex, int chunkSize) {
        String where = "v6 blob table entry " + expectedIndex;
        byte[] id = new byte[64];
        b.get(pos, id);
        int len = 0;
        while (len < 64 && id[len] != 0) {
            len++;
        }
        String blobId = new String(id, 0, len, StandardCharsets.US_ASCII);
        int index = b.getInt(pos + 64);
        RafsFormatException.require(index == expectedIndex, "%s: blob_index %d", where, index);
        RafsFormatException.require(b.getInt(pos + 68) == chunkSize, "%s: chunk size 0x%x differs from the superblock's 0x%x",
                where, b.getInt(pos + 68), chunkSize);
        int chunkCount = b.getInt(pos + 72);
        RafsFormatException.require(chunkCount >= 0 && chunkCount <= (1 << 24), "%s: chunk count %d", where, chunkCount);
        int features = b.getInt(pos + 84);
        BlobFeatures.checkSupported(features, where);
        long csize = b.getLong(pos + 88);
        long usize = b.getLong(pos + 96);
        RafsFormatException.require(csize >= 0 && csize <= (1L << 40) && usize >= 0 && usize <= (1L << 44),
                "%s: sizes %d/%d out of range", where, csize, usize);
        int cipher = b.getInt(pos + 216);
        RafsFormatException.require(cipher == 0, "%s: encrypted blobs are not supported", where);
        byte[] toc = new byte[32];
        b.get(pos + 136, toc);
        byte[] meta = new byte[32];
        b.get(pos + 168, meta);
        return BlobInfo.builder().blobId(blobId).index(index).chunkSize(chunkSize).chunkCount(chunkCount)
                .compressor(Compressor.fromId(b.getInt(pos + 76))).digester(Digester.fromId(b.getInt(pos + 80)))
                .features(features).compressedSize(csize).uncompressedSize(usize).tocSize(b.getInt(pos + 104))
                .ciCompressor(Compressor.fromId(b.getInt(pos + 108))).ciOffset(b.getLong(pos + 112))
                .ciCompressedSize(b.getLong(pos + 120)).ciUncompressedSize(b.getLong(pos + 128)).tocDigest(toc)
                .metaDigest(meta).metaSize(b.getLong(pos + 200)).build();
    }
}
