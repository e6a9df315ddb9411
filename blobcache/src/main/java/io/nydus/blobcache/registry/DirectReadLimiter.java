package io.nydus.blobcache.registry;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;

/**
 * A token bucket for reads that bypass a throttled Dragonfly proxy: when the proxy answers 429 the P2P network is
 * overloaded, and sending every on-demand read straight to the registry instead would move the overload there.
 * Callers wait for a permit; the bucket holds one second's worth.
 */
final class DirectReadLimiter {
    private final double perSecond;
    private double permits;
    private long lastNanos = System.nanoTime();

    DirectReadLimiter(double perSecond) {
        if (perSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive");
        }
        this.perSecond = perSecond;
        this.permits = perSecond;
    }

    void acquire() throws InterruptedIOException {
        long waitNanos;
        synchronized (this) {
            long now = System.nanoTime();
            permits = Math.min(perSecond, permits + (now - lastNanos) / 1e9 * perSecond);
            lastNanos = now;
            permits -= 1;
            waitNanos = permits >= 0 ? 0 : (long) (-permits / perSecond * 1e9);
        }
        if (waitNanos > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting to read from the registry");
            }
        }
    }
}
