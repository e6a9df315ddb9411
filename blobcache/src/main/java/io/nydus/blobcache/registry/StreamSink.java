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
 * Hands a streamed body to a reading thread, one batch of buffers at a time (the next batch is requested when the
 * reader takes one, so at most a few are held). Completes at once, so the response is available when its headers
 * are.
 */
final class StreamSink implements BodySubscriber<Object> {
    static final Object END = new Object();

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
            s.request(1);
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
