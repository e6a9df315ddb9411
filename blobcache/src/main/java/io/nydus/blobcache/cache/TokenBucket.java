package io.nydus.blobcache.cache;

import java.io.InterruptedIOException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Limits prefetch to {@code rate} bytes per second ({@code bandwidth_rate}). A request takes its bytes at once and
 * may drive the balance negative; the next taker then sleeps until the debt is paid, so requests larger than one
 * second's worth still pass and the long-run rate holds. The burst after idleness is one second's worth.
 */
final class TokenBucket {
    private final long rate;
    private double tokens;
    private long last = System.nanoTime();

    /** @param rate bytes per second; 0 or less means unlimited */
    TokenBucket(long rate) {
        this.rate = rate;
        this.tokens = rate;
    }

    /**
     * Takes {@code bytes}, sleeping first while the bucket is in debt; gives up when {@code stop} turns true (checked
     * every 100 ms).
     */
    void acquire(long bytes, BooleanSupplier stop) throws InterruptedIOException {
        if (rate <= 0) {
            return;
        }
        long waitNanos;
        synchronized (this) {
            long now = System.nanoTime();
            tokens = Math.min(rate, tokens + (now - last) * (rate / 1e9));
            last = now;
            waitNanos = tokens < 0 ? (long) (-tokens / rate * 1e9) : 0;
            tokens -= bytes;
        }
        long until = System.nanoTime() + waitNanos;
        for (long left = waitNanos; left > 0; left = until - System.nanoTime()) {
            if (stop.getAsBoolean()) {
                throw new InterruptedIOException("prefetch stopped while waiting for bandwidth");
            }
            LockSupport.parkNanos(Math.min(left, 100_000_000L));
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for prefetch bandwidth");
            }
        }
    }
}
