package io.nydus.blobcache.cache;

import io.nydus.rafs.ChunkInfo;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Background prefetch of one image's chunks: {@code threads} workers take merged batches (adjacent chunks up to
 * {@code merging_size}), wait while on-demand reads are waiting for the backend ({@link PrefetchGate}), take their
 * bytes from the {@code bandwidth_rate} {@link TokenBucket}, and fetch through the same path as reads, so a chunk
 * that a reader is already fetching is not fetched twice. Failures are counted, not thrown: a chunk prefetch could
 * not get is fetched again when it is read.
 */
final class PrefetchWorkers {
    private static final System.Logger LOG = System.getLogger(PrefetchWorkers.class.getName());
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final CachedChunkSource source;
    private final int threads;
    private final long mergingSize;
    private final PrefetchGate gate;
    private final TokenBucket bucket;
    private final BlobCacheMetrics metrics;
    private final Object progress = new Object();
    private long pending;
    private ThreadPoolExecutor pool;
    private volatile boolean shutdown;

    PrefetchWorkers(CachedChunkSource source, int threads, long mergingSize, long bandwidthRate, PrefetchGate gate,
            BlobCacheMetrics metrics) {
        this.source = source;
        this.threads = Math.max(1, threads);
        this.mergingSize = Math.max(1, mergingSize);
        this.gate = gate;
        this.bucket = new TokenBucket(bandwidthRate);
        this.metrics = metrics;
    }

    long mergingSize() {
        return mergingSize;
    }

    /** Queues chunks of any blobs of the image; returns at once. */
    void submit(List<ChunkInfo> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        Map<Integer, List<ChunkInfo>> byBlob = new LinkedHashMap<>();
        int holes = 0;
        for (ChunkInfo c : chunks) {
            if (c.isHole()) {
                holes++;
            } else {
                byBlob.computeIfAbsent(c.blobIndex(), k -> new ArrayList<>()).add(c);
            }
        }
        ThreadPoolExecutor p;
        synchronized (progress) {
            if (shutdown) {
                return;
            }
            if (pending == 0) {
                metrics.prefetchBeginMillis.set(System.currentTimeMillis());
            }
            pending += chunks.size();
            p = pool();
        }
        metrics.prefetchUnmergedChunks.add(chunks.size());
        done(holes);
        for (Map.Entry<Integer, List<ChunkInfo>> e : byBlob.entrySet()) {
            execute(p, e.getValue().size(), () -> plan(e.getKey(), e.getValue()));
        }
    }

    private void execute(ThreadPoolExecutor p, int chunks, Runnable task) {
        try {
            p.execute(task);
        } catch (RejectedExecutionException e) {
            done(chunks);
        }
    }

    private ThreadPoolExecutor pool() {
        if (pool == null) {
            int id = POOLS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "nydus-prefetch-" + id + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            pool.allowCoreThreadTimeOut(true);
        }
        return pool;
    }

    private void plan(int blobIndex, List<ChunkInfo> chunks) {
        List<List<ChunkInfo>> batches;
        try {
            batches = source.planPrefetch(blobIndex, chunks, mergingSize);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "prefetch of blob index " + blobIndex + ": " + e.getMessage());
            metrics.prefetchErrors.add(chunks.size());
            done(chunks.size());
            return;
        }
        int kept = 0;
        for (List<ChunkInfo> b : batches) {
            kept += b.size();
        }
        metrics.prefetchDone.add(chunks.size() - kept);
        done(chunks.size() - kept);
        ThreadPoolExecutor p;
        synchronized (progress) {
            p = pool;
        }
        for (List<ChunkInfo> b : batches) {
            execute(p, b.size(), () -> fetch(blobIndex, b));
        }
    }

    private void fetch(int blobIndex, List<ChunkInfo> batch) {
        try {
            int failed = source.prefetchBatch(blobIndex, batch, this);
            metrics.prefetchErrors.add(failed);
            metrics.prefetchDone.add(batch.size() - failed);
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof InterruptedIOException)) {
                LOG.log(System.Logger.Level.WARNING, "prefetch of blob index " + blobIndex + ": " + e.getMessage());
            }
            metrics.prefetchErrors.add(batch.size());
        } finally {
            done(batch.size());
        }
    }

    /**
     * Called by a worker before each backend request, holding no chunk claims: yields to on-demand reads, then to
     * the bandwidth limit.
     */
    void beforeRequest(long bytes) throws InterruptedIOException {
        gate.awaitNoOnDemand(this::stopped);
        bucket.acquire(bytes, this::stopped);
        gate.awaitNoOnDemand(this::stopped);
        if (shutdown) {
            throw new InterruptedIOException("prefetch stopped");
        }
    }

    private boolean stopped() {
        return shutdown;
    }

    void afterRequest(long bytes) {
        metrics.prefetchRequests.increment();
        metrics.prefetchDataAmount.add(bytes);
    }

    private void done(long chunks) {
        if (chunks == 0) {
            return;
        }
        synchronized (progress) {
            pending -= chunks;
            if (pending <= 0) {
                pending = 0;
                metrics.prefetchEndMillis.set(System.currentTimeMillis());
                progress.notifyAll();
            }
        }
    }

    long pending() {
        synchronized (progress) {
            return pending;
        }
    }

    /** Waits until every queued chunk is cached or has failed. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (progress) {
            while (pending > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
            return true;
        }
    }

    /**
     * Stops prefetch: queued batches are dropped, running ones finish their current request. Workers are not
     * interrupted, because an interrupt closes the FileChannel a thread is using, and cache files are shared.
     */
    void shutdown() {
        ThreadPoolExecutor p;
        synchronized (progress) {
            shutdown = true;
            p = pool;
        }
        if (p != null) {
            p.getQueue().clear();
            p.shutdown();
            try {
                if (!p.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, "prefetch workers still busy after 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (progress) {
            pending = 0;
            progress.notifyAll();
        }
    }
}
