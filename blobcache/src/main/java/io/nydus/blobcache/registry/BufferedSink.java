package io.nydus.blobcache.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a small body (a manifest, an error document, a token answer) into a byte array. Past {@code limit} bytes
 * it either fails (a success body that big is not what was asked for) or keeps the beginning (error bodies only
 * need their start).
 */
final class BufferedSink implements BodySubscriber<Object> {
    private final int limit;
    private final boolean truncateQuietly;
    private final Activity activity;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<Object> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    BufferedSink(int limit, boolean truncateQuietly, Activity activity) {
        this.limit = limit;
        this.truncateQuietly = truncateQuietly;
        this.activity = activity;
    }

    @Override
    public CompletionStage<Object> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        activity.touch();
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            int n = Math.min(b.remaining(), limit - out.size());
            byte[] chunk = new byte[n];
            b.get(chunk);
            out.write(chunk, 0, n);
            if (b.hasRemaining()) {
                subscription.cancel();
                if (truncateQuietly) {
                    result.complete(out.toByteArray());
                } else {
                    result.completeExceptionally(new IOException("answer larger than " + limit + " bytes"));
                }
                return;
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        if (truncateQuietly) {
            result.complete(out.toByteArray());
        } else {
            result.completeExceptionally(t);
        }
    }

    @Override
    public void onComplete() {
        result.complete(out.toByteArray());
    }
}
