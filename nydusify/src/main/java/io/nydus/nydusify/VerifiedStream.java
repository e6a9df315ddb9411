package io.nydus.nydusify;

import io.nydus.nydusify.oci.Digests;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.function.LongConsumer;

/**
 * A blob as it streams in, checked against its descriptor: at EOF the byte count and digest must match, otherwise
 * the read fails with a one-line error naming the blob. Reports progress (bytes read so far) as it goes. Without a
 * digest it checks the size only, over a stream that checks the digest itself (an {@link ImageStore} blob).
 */
public final class VerifiedStream extends FilterInputStream {
    private final String digest;
    private final long size;
    private final String what;
    private final MessageDigest md;
    private final LongConsumer progress;
    private long count;
    private boolean verified;
    private NydusifyException failure;

    /**
     * @param digest   expected digest, or null when {@code in} verifies it
     * @param size     expected size, or -1 when unknown
     * @param what     names the blob in errors ("layer sha256:… of 127.0.0.1:5000/app:v1")
     * @param progress receives the running byte count (may be null)
     */
    public VerifiedStream(InputStream in, String digest, long size, String what, LongConsumer progress) {
        super(in);
        this.digest = digest;
        this.size = size;
        this.what = what;
        this.md = digest == null ? null : Digests.messageDigest(digest);
        this.progress = progress;
    }

    @Override
    public int read() throws IOException {
        byte[] b = new byte[1];
        int n = read(b, 0, 1);
        return n < 0 ? -1 : b[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            if (md != null) {
                md.update(b, off, n);
            }
            count += n;
            if (size >= 0 && count > size) {
                throw new NydusifyException(what + ": more than the " + size + " bytes its descriptor declares");
            }
            if (progress != null) {
                progress.accept(count);
            }
        } else if (n < 0) {
            verify();
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // every byte must pass through the digest
        byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
        int r = read(buf, 0, buf.length);
        return Math.max(r, 0);
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Reads what the consumer left (tar padding, compressor trailers) and checks the whole blob. */
    public void drain() throws IOException {
        byte[] buf = new byte[1 << 16];
        while (read(buf, 0, buf.length) >= 0) {
            // the digest sees every byte
        }
    }

    private void verify() throws IOException {
        if (!verified) {
            verified = true;
            String got = md == null ? null : Digests.format(Digests.algorithm(digest), md.digest());
            if (size >= 0 && count != size) {
                failure = new NydusifyException(what + ": " + count + " bytes, its descriptor declares " + size);
            } else if (got != null && !got.equals(digest)) {
                failure = new NydusifyException(what + ": content digest is " + got + ", not " + digest);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
