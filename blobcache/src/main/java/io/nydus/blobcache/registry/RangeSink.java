package io.nydus.blobcache.registry;

import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Copies exactly {@code len} bytes of a blob body into {@code dst[off…]}, after skipping {@code skip} leading body
 * bytes (non-zero when the server answered 200 with the whole blob instead of 206). A body that ends early fails
 * with {@link TruncatedBodyException}; bytes past what is needed are not read (the connection is dropped instead).
 *
 * <p>Once {@link #abandon()} returns no more bytes are written to {@code dst}: a retry may then reuse the array.
 */
final class RangeSink implements BodySubscriber<Object> {
    private final byte[] dst;
    private final int off;
    private final int len;
    private final long bodyLength;
    private final Activity activity;
    private final CompletableFuture<Object> result = new CompletableFuture<>();
    private final long initialSkip;
    private long skip;
    private int written;
    private Flow.Subscription subscription;
    private boolean abandoned;

    /**
     * @param bodyLength the announced body length, or -1 when unknown
     */
    RangeSink(byte[] dst, int off, int len, long skip, long bodyLength, Activity activity) {
        this.dst = dst;
        this.off = off;
        this.len = len;
        this.skip = skip;
        this.initialSkip = skip;
        this.bodyLength = bodyLength;
        this.activity = activity;
    }

    @Override
    public CompletionStage<Object> getBody() {
        return result;
    }

    @Override
    public synchronized void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        if (abandoned) {
            s.cancel();
            return;
        }
        if (len == 0 && skip == 0 && bodyLength == 0) {
            result.complete(0);
        }
        s.request(Long.MAX_VALUE);
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> items) {
        activity.touch();
        if (abandoned || result.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            if (skip > 0) {
                int s = (int) Math.min(skip, b.remaining());
                b.position(b.position() + s);
                skip -= s;
            }
            int n = Math.min(b.remaining(), len - written);
            if (n > 0) {
                b.get(dst, off + written, n);
                written += n;
            }
        }
        if (written == len) {
            result.complete(written);
            if (bodyLength < 0 || bodyLength > initialSkip + len) {
                // more body would follow: stop reading it (the connection is closed, not reused)
                abandoned = true;
                subscription.cancel();
            }
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        if (!result.isDone()) {
            result.completeExceptionally(new TruncatedBodyException(
                    "body ended after " + written + " of " + len + " bytes: " + t.getMessage(), t));
        }
    }

    @Override
    public synchronized void onComplete() {
        if (!result.isDone()) {
            if (written == len) {
                result.complete(written);
            } else {
                result.completeExceptionally(new TruncatedBodyException(
                        "body ended after " + written + " of " + len + " bytes", null));
            }
        }
    }

    /** Stops writing into {@code dst} and drops the connection; safe to call at any time. */
    synchronized void abandon() {
        if (!abandoned) {
            abandoned = true;
            if (subscription != null) {
                subscription.cancel();
            }
        }
        result.completeExceptionally(new IOException("abandoned"));
    }

    /** A body shorter than promised: retried like a connection error. */
    static final class TruncatedBodyException extends IOException {
        TruncatedBodyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
