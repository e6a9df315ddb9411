package io.nydus.blobcache.cache;

import io.nydus.blobcache.BackendMetrics;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Wraps a backend to record every range read (the test's view of "what went over the network"), optionally slow
 * down reads or corrupt the bytes of chosen ranges.
 */
final class CountingBackend implements BlobBackend {
    record Request(String blobId, long offset, int len, ReadPriority priority, long startNanos, long endNanos) {
        boolean covers(long off, long n) {
            return offset <= off && off + n <= offset + len;
        }
    }

    private final BlobBackend inner;
    private final List<Request> requests = new ArrayList<>();
    private final AtomicInteger inflight = new AtomicInteger();
    private volatile long delayMillis;
    private volatile long onDemandDelayMillis = -1;
    private volatile Predicate<Request> corrupt = r -> false;
    private volatile long corruptOffset = -1;
    private volatile boolean closed;

    CountingBackend(BlobBackend inner) {
        this.inner = inner;
    }

    void delayMillis(long ms) {
        delayMillis = ms;
    }

    /** A different delay for on-demand reads than for prefetch. */
    void delayMillis(long onDemandMs, long prefetchMs) {
        onDemandDelayMillis = onDemandMs;
        delayMillis = prefetchMs;
    }

    /** Flips a byte at {@code offset} of every read that covers it. */
    void corruptAt(long offset) {
        corruptOffset = offset;
        corrupt = r -> r.offset() <= offset && offset < r.offset() + r.len();
    }

    /** Flips a byte at {@code offset} in the next read that covers it only. */
    void corruptOnceAt(long offset) {
        corruptOffset = offset;
        boolean[] used = {false};
        corrupt = r -> {
            synchronized (used) {
                if (used[0] || !(r.offset() <= offset && offset < r.offset() + r.len())) {
                    return false;
                }
                used[0] = true;
                return true;
            }
        };
    }

    void stopCorrupting() {
        corrupt = r -> false;
    }

    @Override
    public String type() {
        return inner.type();
    }

    @Override
    public long blobSize(String blobId) throws IOException {
        return inner.blobSize(blobId);
    }

    @Override
    public void read(String blobId, long offset, byte[] dst, int dstOff, int len, ReadPriority priority)
            throws IOException {
        long start = System.nanoTime();
        inflight.incrementAndGet();
        try {
            long d = priority == ReadPriority.ON_DEMAND && onDemandDelayMillis >= 0 ? onDemandDelayMillis
                    : delayMillis;
            if (d > 0) {
                try {
                    Thread.sleep(d);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException();
                }
            }
            inner.read(blobId, offset, dst, dstOff, len, priority);
        } finally {
            inflight.decrementAndGet();
        }
        Request r = new Request(blobId, offset, len, priority, start, System.nanoTime());
        if (corrupt.test(r)) {
            dst[dstOff + (int) (corruptOffset - offset)] ^= 0x5A;
        }
        synchronized (requests) {
            requests.add(r);
        }
    }

    List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    void clear() {
        synchronized (requests) {
            requests.clear();
        }
    }

    /** Requests whose range includes {@code [offset, offset+len)}. */
    long readsCovering(long offset, long len) {
        return requests().stream().filter(r -> r.covers(offset, len)).count();
    }

    /** Requests that overlap {@code [offset, offset+len)} at all. */
    long readsTouching(long offset, long len) {
        return requests().stream().filter(r -> r.offset() < offset + len && offset < r.offset() + r.len()).count();
    }

    @Override
    public BackendMetrics metrics() {
        return inner.metrics();
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        inner.close();
    }
}
