package io.nydus.blobcache.registry;

import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hands a streamed body to a reading thread in batches of buffers. Up to {@link #AHEAD} batches are asked for ahead
 * of the reader (each batch taken asks for one more), so the HTTP client keeps reading the socket while the reader
 * works: asking for one batch at a time made every batch wait for two thread wake-ups, and a conversion's gunzip
 * thread waited 0.3 s for its layer from a local registry. Completes at once, so the response is available when its
 * headers are.
 */
final class StreamSink implements BodySubscriber<Object> {
    static final Object END = new Object();
    /** Batches asked for ahead of the reader (a batch is a socket read, tens of KiB). */
    private static final int AHEAD = 32;

    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final long skip;
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;

    /** @param skip leading body bytes to drop (a 200 answer to a ranged request) */
    StreamSink(long skip) {
        this.skip = skip;
    }

    long skip() {
        return skip;
    }

    @Override
    public CompletionStage<Object> getBody() {
        return CompletableFuture.completedFuture(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        if (cancelled) {
            s.cancel();
        } else {
            s.request(AHEAD);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        queue.add(items);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }

    /** The next batch, {@link #END}, a Throwable, or null after {@code timeoutNanos} without data. */
    Object take(long timeoutNanos) throws InterruptedException {
        Object o = queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
        if (o instanceof List<?> && subscription != null) {
            subscription.request(1);
        }
        return o;
    }

    void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }
}
