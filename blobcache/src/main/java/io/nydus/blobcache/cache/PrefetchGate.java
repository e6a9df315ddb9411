package io.nydus.blobcache.cache;

import java.io.InterruptedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Gives on-demand reads priority over prefetch: every on-demand read that has to wait for the backend holds the
 * gate open while it waits, and prefetch workers do not start a backend request while any does. A worker's request
 * already under way is not interrupted, so an on-demand read waits at most for one merged prefetch request.
 */
final class PrefetchGate {
    private static final long PAUSE_NANOS = 500_000;

    private final AtomicInteger onDemandWaiting = new AtomicInteger();

    void enterOnDemand() {
        onDemandWaiting.incrementAndGet();
    }

    void exitOnDemand() {
        onDemandWaiting.decrementAndGet();
    }

    /** Blocks a prefetch worker while on-demand reads are waiting, until {@code stop} turns true. */
    void awaitNoOnDemand(BooleanSupplier stop) throws InterruptedIOException {
        while (onDemandWaiting.get() > 0) {
            if (stop.getAsBoolean()) {
                throw new InterruptedIOException("prefetch stopped");
            }
            LockSupport.parkNanos(PAUSE_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("prefetch interrupted");
            }
        }
    }
}
