package io.nydus.blobcache.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

/**
 * A whole blob as a stream. A broken or stalled body is resumed with a ranged GET from where it stopped (up to the
 * retry limit), and at the end the bytes are checked against the blob's digest (sha256 or sha512): a caller reading to EOF
 * never gets a short or corrupted blob without an IOException.
 */
final class BlobStream extends InputStream {

    /** Opens the body from {@code offset} (0 = whole blob). */
    interface Opener {
        Opened open(long offset) throws IOException;
    }

    /** A body as opened: its sink, and the blob's total size when the answer told it (else -1). */
    record Opened(StreamSink sink, long blobSize) {
    }

    private final Opener opener;
    private final String what;
    private final String digest;
    private final MessageDigest md;
    private final long timeoutNanos;
    private final int retryLimit;
    private final RetryBackoff backoff;
    private StreamSink sink;
    private long size;
    private long position;
    private long toSkip;
    private int retries;
    private Iterator<?> batch;
    private ByteBuffer current;
    private boolean eof;
    private boolean closed;

    BlobStream(Opener opener, String what, String digest, long timeoutNanos, int retryLimit, RetryBackoff backoff)
            throws IOException {
        this.opener = opener;
        this.what = what;
        this.digest = digest;
        this.timeoutNanos = timeoutNanos;
        this.retryLimit = retryLimit;
        this.backoff = backoff;
        this.md = messageDigest(digest);
        Opened o = opener.open(0);
        this.sink = o.sink();
        this.size = o.blobSize();
        this.toSkip = o.sink().skip();
    }

    private IOException failure;

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException(what + ": stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (true) {
            if (failure != null) {
                throw failure;
            }
            if (eof) {
                return -1;
            }
            if (current != null && current.hasRemaining()) {
                int n = Math.min(len, current.remaining());
                current.get(b, off, n);
                if (md != null) {
                    md.update(b, off, n);
                }
                position += n;
                return n;
            }
            if (batch != null && batch.hasNext()) {
                current = (ByteBuffer) batch.next();
                if (toSkip > 0) {
                    int s = (int) Math.min(toSkip, current.remaining());
                    current.position(current.position() + s);
                    toSkip -= s;
                }
                continue;
            }
            next();
        }
    }

    /** Takes the next batch from the body, resuming or finishing the stream as needed. */
    private void next() throws IOException {
        Object item;
        try {
            item = sink.take(timeoutNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted");
        }
        if (item instanceof List<?> list) {
            batch = list.iterator();
            return;
        }
        if (item == StreamSink.END) {
            if (size >= 0 && position < size) {
                resume("body ended at byte " + position + " of " + size);
                return;
            }
            finish();
            return;
        }
        String why = item == null ? "no data for " + timeoutNanos / 1_000_000_000 + " s" : TokenEndpoint.describe(
                (Throwable) item);
        resume(why);
    }

    private void resume(String why) throws IOException {
        sink.cancel();
        if (retries >= retryLimit) {
            throw RegistryException.failed(what, why + (retries > 0 ? " (after " + retries + " retries)" : ""), null);
        }
        backoff.pause(retries++, null);
        Opened o = opener.open(position);
        sink = o.sink();
        toSkip = o.sink().skip();
        batch = null;
        current = null;
        if (size < 0) {
            size = o.blobSize();
        }
    }

    /** The digest to check the bytes with: sha256 or sha512 (what images use); null for other algorithms. */
    private static MessageDigest messageDigest(String digest) {
        try {
            return digest.startsWith("sha256:") ? MessageDigest.getInstance("SHA-256")
                    : digest.startsWith("sha512:") ? MessageDigest.getInstance("SHA-512") : null;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java runtime has both
        }
    }

    private void finish() throws IOException {
        eof = true;
        if (md != null) {
            String got = digest.substring(0, digest.indexOf(':') + 1) + HexFormat.of().formatHex(md.digest());
            if (!got.equals(digest)) {
                // every later read fails too: a caller that retries must not see a clean end of stream
                failure = RegistryException.failed(what, "content digest is " + got + " (" + position + " bytes)", null);
                throw failure;
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            sink.cancel();
        }
    }
}
