package io.nydus.rafs;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Chunk compression algorithms, with the enum values that blob tables and ci headers store (notes §3.2).
 *
 * <p>Each chunk is compressed on its own. {@link #compress} returns {@code null} when the result would not be
 * strictly smaller than the input: the chunk is then stored raw and its COMPRESSED flag stays clear, exactly as
 * upstream does.
 */
public enum Compressor {
    NONE(0, "none", SuperFlags.COMPRESSION_NONE, 0x1),
    LZ4_BLOCK(1, "lz4_block", SuperFlags.COMPRESSION_LZ4, 0x4),
    GZIP(2, "gzip", SuperFlags.COMPRESSION_GZIP, 0),
    ZSTD(3, "zstd", SuperFlags.COMPRESSION_ZSTD, 0x2);

    /** zstd level used for chunks. Upstream uses the crate default, 3; see the README for why ours differs. */
    public static final int DEFAULT_ZSTD_LEVEL = Integer.getInteger("nydus.zstd.level", 1);

    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();

    /**
     * A zstd context and output buffer per thread: creating a context for every chunk cost ~10% of a build of many
     * small files (measured with JFR). Builder threads live for one build, so the native memory is short-lived.
     */
    private static final class ZstdWorkspace {
        final com.github.luben.zstd.ZstdCompressCtx ctx = new com.github.luben.zstd.ZstdCompressCtx()
                .setLevel(DEFAULT_ZSTD_LEVEL);
        byte[] out = new byte[0];

        byte[] output(int len) {
            int bound = (int) Zstd.compressBound(len);
            if (out.length < bound) {
                out = new byte[Math.max(bound, (int) Zstd.compressBound(1 << 20))];
            }
            return out;
        }
    }

    private static final ThreadLocal<ZstdWorkspace> ZSTD_WORKSPACE = ThreadLocal.withInitial(ZstdWorkspace::new);

    private final int id;
    private final String cliName;
    private final long superFlag;
    private final int tocFlag;

    Compressor(int id, String cliName, long superFlag, int tocFlag) {
        this.id = id;
        this.cliName = cliName;
        this.superFlag = superFlag;
        this.tocFlag = tocFlag;
    }

    /** The value stored in blob tables and ci headers. */
    public int id() {
        return id;
    }

    /** The name used on the command line and in JSON output. */
    public String cliName() {
        return cliName;
    }

    /** The {@link SuperFlags} bit of this algorithm. */
    public long superFlag() {
        return superFlag;
    }

    /** The compression bits of a TOC entry (0 when the algorithm cannot appear in a TOC). */
    public int tocFlag() {
        return tocFlag;
    }

    public static Compressor fromId(int id) {
        for (Compressor c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        throw new RafsFormatException("unknown compression algorithm " + id);
    }

    public static Compressor fromCliName(String name) {
        for (Compressor c : values()) {
            if (c.cliName.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown compressor '" + name + "' (expected none, lz4_block or zstd)");
    }

    /** The algorithm named by the compression bits of a superblock; NONE when no bit is set. */
    public static Compressor fromSuperFlags(long flags) {
        for (Compressor c : values()) {
            if ((flags & c.superFlag) != 0) {
                return c;
            }
        }
        return NONE;
    }

    public static Compressor fromTocFlags(int flags) {
        return switch (flags & 0xF) {
            case 0x1 -> NONE;
            case 0x2 -> ZSTD;
            case 0x4 -> LZ4_BLOCK;
            default -> throw new RafsFormatException("unknown TOC compression flags 0x" + Integer.toHexString(flags));
        };
    }

    /**
     * Compresses {@code src[off, off+len)}; returns the compressed bytes, or null when they would not be smaller
     * than the input (then the caller stores the input raw).
     */
    public byte[] compress(byte[] src, int off, int len) {
        if (len == 0) {
            return null;
        }
        byte[] out;
        switch (this) {
            case NONE:
                return null;
            case LZ4_BLOCK: {
                LZ4Compressor c = LZ4.fastCompressor();
                byte[] buf = new byte[c.maxCompressedLength(len)];
                int n = c.compress(src, off, len, buf, 0, buf.length);
                out = n < len ? java.util.Arrays.copyOf(buf, n) : null;
                break;
            }
            case ZSTD: {
                ZstdWorkspace w = ZSTD_WORKSPACE.get();
                byte[] buf = w.output(len);
                int n = w.ctx.compressByteArray(buf, 0, buf.length, src, off, len);
                out = n < len ? java.util.Arrays.copyOf(buf, n) : null;
                break;
            }
            case GZIP: {
                ByteArrayOutputStream bos = new ByteArrayOutputStream(len / 2 + 64);
                try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
                    gz.write(src, off, len);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                out = bos.size() < len ? bos.toByteArray() : null;
                break;
            }
            default:
                throw new AssertionError(this);
        }
        return out;
    }

    /**
     * Decompresses exactly {@code dstLen} bytes into {@code dst[dstOff...]}. Fails with a format error when the
     * input is corrupt or does not decode to exactly that length.
     */
    public void decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int dstLen) {
        switch (this) {
            case NONE -> {
                if (srcLen != dstLen) {
                    throw new RafsFormatException("raw chunk of " + srcLen + " bytes, expected " + dstLen);
                }
                System.arraycopy(src, srcOff, dst, dstOff, dstLen);
            }
            case LZ4_BLOCK -> {
                LZ4SafeDecompressor d = LZ4.safeDecompressor();
                int n;
                try {
                    n = d.decompress(src, srcOff, srcLen, dst, dstOff, dstLen);
                } catch (LZ4Exception e) {
                    throw new RafsFormatException("corrupt lz4_block data: " + e.getMessage());
                }
                if (n != dstLen) {
                    throw new RafsFormatException("lz4_block data decodes to " + n + " bytes, expected " + dstLen);
                }
            }
            case ZSTD -> {
                long n = Zstd.decompressByteArray(dst, dstOff, dstLen, src, srcOff, srcLen);
                if (Zstd.isError(n)) {
                    throw new RafsFormatException("corrupt zstd data: " + Zstd.getErrorName(n));
                }
                if (n != dstLen) {
                    throw new RafsFormatException("zstd data decodes to " + n + " bytes, expected " + dstLen);
                }
            }
            case GZIP -> {
                try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(src, srcOff, srcLen))) {
                    int done = in.readNBytes(dst, dstOff, dstLen);
                    if (done != dstLen || in.read() != -1) {
                        throw new RafsFormatException("gzip data does not decode to " + dstLen + " bytes");
                    }
                } catch (IOException e) {
                    throw new RafsFormatException("corrupt gzip data: " + e.getMessage());
                }
            }
            default -> throw new AssertionError(this);
        }
    }

    /** Decompresses into a new array of {@code dstLen} bytes. */
    public byte[] decompress(byte[] src, int dstLen) {
        byte[] out = new byte[dstLen];
        decompress(src, 0, src.length, out, 0, dstLen);
        return out;
    }

    /** Decompresses a zstd frame whose content size is written in its header, refusing sizes above {@code max}. */
    public static byte[] zstdDecompressFrame(byte[] src, long max) {
        long size = Zstd.getFrameContentSize(src);
        if (size < 0 || size > max) {
            throw new RafsFormatException("zstd frame declares " + size + " bytes (limit " + max + ")");
        }
        return ZSTD.decompress(src, (int) size);
    }

    /** Compresses a whole buffer into one zstd frame (with its content size), at the default level. */
    public static byte[] zstdFrame(byte[] src) {
        return Zstd.compress(src, 3);
    }
}
