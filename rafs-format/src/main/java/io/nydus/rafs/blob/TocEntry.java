package io.nydus.rafs.blob;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One 128-byte entry of a blob's table of contents ({@code rafs.blob.toc}).
 *
 * <pre>
 * off size field
 *   0    4 flags               compression: 0x1 none, 0x2 zstd, 0x4 lz4_block
 *   4    4 reserved
 *   8   16 name                NUL padded
 *  24   32 uncompressed_digest sha256 of the uncompressed section
 *  56    8 compressed_offset
 *  64    8 compressed_size
 *  72    8 uncompressed_size
 *  80   48 reserved            older builders left garbage in 124..127: ignored, but covered by the TOC digest
 * </pre>
 */
public record TocEntry(int flags, String name, byte[] digest, long compressedOffset, long compressedSize,
        long uncompressedSize) {

    public static final int SIZE = 128;

    public Compressor compressor() {
        return Compressor.fromTocFlags(flags);
    }

    public void write(ByteBuffer out) {
        int start = out.position();
        out.putInt(flags);
        out.putInt(0);
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        byte[] padded = new byte[16];
        System.arraycopy(n, 0, padded, 0, Math.min(16, n.length));
        out.put(padded);
        out.put(digest);
        out.putLong(compressedOffset);
        out.putLong(compressedSize);
        out.putLong(uncompressedSize);
        out.position(start + SIZE);
    }

    public static TocEntry read(byte[] b, int off) {
        ByteBuffer buf = ByteBuffer.wrap(b, off, SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        int end = 0;
        while (end < 16 && b[off + 8 + end] != 0) {
            end++;
        }
        byte[] digest = new byte[32];
        buf.get(24, digest);
        long coff = buf.getLong(56);
        long csize = buf.getLong(64);
        long usize = buf.getLong(72);
        RafsFormatException.require(coff >= 0 && csize >= 0 && usize >= 0, "TOC entry: negative offset or size");
        return new TocEntry(buf.getInt(0), new String(b, off + 8, end, StandardCharsets.US_ASCII), digest, coff,
                csize, usize);
    }
}
