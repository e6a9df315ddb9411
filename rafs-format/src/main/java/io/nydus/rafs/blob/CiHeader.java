package io.nydus.rafs.blob;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code BlobCompressionContextHeader}: the 4096-byte header that follows a blob's compressed ci table.
 *
 * <pre>
 *  off size field
 *    0    4 s_magic               0xB10BB10B
 *    4    4 s_features            BlobFeatures
 *    8    4 s_ci_compressor       compression of the ci table
 *   12    4 s_ci_entries          number of chunks
 *   16    8 s_ci_offset           offset of the compressed ci table in the blob
 *   24    8 s_ci_compressed_size
 *   32    8 s_ci_uncompressed_size
 *   40    8 s_ci_zran_offset      offset of zran/batch contexts inside the uncompressed ci data
 *   48    8 s_ci_zran_size
 *   56    4 s_ci_zran_count
 *   60 4032 reserved
 * 4092    4 s_magic2              0xB10BB10B
 * </pre>
 */
public record CiHeader(int features, Compressor ciCompressor, int entries, long ciOffset, long ciCompressedSize,
        long ciUncompressedSize, long zranOffset, long zranSize, int zranCount) {

    public static final int SIZE = 4096;
    public static final int MAGIC = 0xB10BB10B;

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, MAGIC);
        b.putInt(4, features);
        b.putInt(8, ciCompressor.id());
        b.putInt(12, entries);
        b.putLong(16, ciOffset);
        b.putLong(24, ciCompressedSize);
        b.putLong(32, ciUncompressedSize);
        b.putLong(40, zranOffset);
        b.putLong(48, zranSize);
        b.putInt(56, zranCount);
        b.putInt(4092, MAGIC);
        return b.array();
    }

    public static CiHeader decode(byte[] bytes, int off) {
        RafsFormatException.require(bytes.length - off >= SIZE, "blob meta header: %d bytes, expected %d",
                bytes.length - off, SIZE);
        ByteBuffer b = ByteBuffer.wrap(bytes, off, SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        RafsFormatException.require(b.getInt(0) == MAGIC && b.getInt(4092) == MAGIC,
                "blob meta header: bad magic 0x%08x/0x%08x", b.getInt(0), b.getInt(4092));
        int features = b.getInt(4);
        BlobFeatures.checkSupported(features, "blob meta header");
        long ciOff = b.getLong(16);
        long csize = b.getLong(24);
        long usize = b.getLong(32);
        int entries = b.getInt(12);
        RafsFormatException.require(entries >= 0 && ciOff >= 0 && csize >= 0 && usize >= 0,
                "blob meta header: negative field");
        return new CiHeader(features, Compressor.fromId(b.getInt(8)), entries, ciOff, csize, usize, b.getLong(40),
                b.getLong(48), b.getInt(56));
    }
}
