package io.nydus.builder;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** OCI layers are tar, tar+gzip or tar+zstd; the first bytes tell which, whatever the media type claims. */
public final class LayerCompression {
    private static final int BUFFER = 1 << 16;

    private LayerCompression() {
    }

    /** Wraps {@code raw} with the decompressor its first bytes call for (none for a plain tar). */
    public static InputStream decompressed(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, BUFFER);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xFF) == 0x1F && (magic[1] & 0xFF) == 0x8B) {
            if (IsalGzipInputStream.usable()) {
                return new IsalGzipInputStream(in);
            }
            return new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
        }
        if (magic.length == 4 && (magic[0] & 0xFF) == 0x28 && (magic[1] & 0xFF) == 0xB5 && (magic[2] & 0xFF) == 0x2F
                && (magic[3] & 0xFF) == 0xFD) {
            return new BufferedInputStream(new ZstdInputStream(in), BUFFER);
        }
        return in;
    }
}
