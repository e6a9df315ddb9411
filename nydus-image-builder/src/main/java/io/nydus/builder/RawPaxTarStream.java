package io.nydus.builder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A tar stream that also keeps the raw bytes of each local PAX header: commons-compress decodes PAX values as
 * UTF-8 text, and xattr values are binary.
 */
public final class RawPaxTarStream extends TarArchiveInputStream {
    private final ByteArrayOutputStream pax = new ByteArrayOutputStream();

    public RawPaxTarStream(InputStream in) {
        super(in, "UTF-8");
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        TarArchiveEntry cur = getCurrentEntry();
        if (n > 0 && cur != null && cur.isPaxHeader()) {
            pax.write(b, off, n);
        }
        return n;
    }

    /** The raw local PAX header read before the current entry, then forgotten. */
    public byte[] takePax() {
        byte[] b = pax.toByteArray();
        pax.reset();
        return b;
    }
}
