package io.nydus.blobcache;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Backend read statistics, reported by nydusd at {@code /api/v1/metrics/backend}. Thread-safe. */
public final class BackendMetrics {
    private final LongAdder readCount = new LongAdder();
    private final LongAdder readErrors = new LongAdder();
    private final LongAdder readBytes = new LongAdder();
    private final LongAdder readLatencyMillis = new LongAdder();
    private final AtomicLong inflight = new AtomicLong();

    /** Marks the start of a backend request; pass the returned start time to {@link #end}. */
    public long begin() {
        inflight.incrementAndGet();
        return System.nanoTime();
    }

    public void end(long startNanos, long bytes, boolean ok) {
        inflight.decrementAndGet();
        readCount.increment();
        if (ok) {
            readBytes.add(bytes);
        } else {
            readErrors.increment();
        }
        readLatencyMillis.add((System.nanoTime() - startNanos) / 1_000_000);
    }

    public long readCount() {
        return readCount.sum();
    }

    public long readErrors() {
        return readErrors.sum();
    }

    public long readBytes() {
        return readBytes.sum();
    }

    public long readLatencyMillisTotal() {
        return readLatencyMillis.sum();
    }

    public long inflight() {
        return inflight.get();
    }
}
