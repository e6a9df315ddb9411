package io.nydus.blobcache.cache;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one image's chunk cache, reported by nydusd at {@code /api/v1/metrics/blobcache} with upstream's
 * field names ({@link #toMap}). Thread-safe; counters are {@link LongAdder}s so that readers on many FUSE threads
 * do not contend.
 *
 * <p>A read is a <em>whole hit</em> when its chunk was servable from the cache file at once, a <em>partial hit</em>
 * when it was served without a backend request of its own after waiting (for another reader's fetch of the same
 * chunk, or for the first-use verification of a cached chunk), and a miss otherwise.
 */
public final class BlobCacheMetrics {
    /** What the cache reports about its current state. */
    interface Gauges {
        long entriesCount();

        List<String> underlyingFiles();

        boolean dataAllReady();

        long prefetchPending();
    }

    private final String storePath;
    private final int prefetchWorkers;
    private final Gauges gauges;
    final LongAdder wholeHits = new LongAdder();
    final LongAdder partialHits = new LongAdder();
    final LongAdder total = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder verifyFailures = new LongAdder();
    final LongAdder prefetchDataAmount = new LongAdder();
    final LongAdder prefetchRequests = new LongAdder();
    final LongAdder prefetchUnmergedChunks = new LongAdder();
    final LongAdder prefetchDone = new LongAdder();
    final LongAdder prefetchErrors = new LongAdder();
    final AtomicLong prefetchBeginMillis = new AtomicLong();
    final AtomicLong prefetchEndMillis = new AtomicLong();

    BlobCacheMetrics(String storePath, int prefetchWorkers, Gauges gauges) {
        this.storePath = storePath;
        this.prefetchWorkers = prefetchWorkers;
        this.gauges = gauges;
    }

    public long wholeHits() {
        return wholeHits.sum();
    }

    public long partialHits() {
        return partialHits.sum();
    }

    /** Reads served (hits and misses). */
    public long total() {
        return total.sum();
    }

    /** Reads that fetched their chunk from the backend themselves. */
    public long misses() {
        return misses.sum();
    }

    /** Cached chunks whose bytes no longer matched their digest at first use (then fetched again). */
    public long verifyFailures() {
        return verifyFailures.sum();
    }

    /** Chunks marked ready in the cache files of this image's blobs. */
    public long entriesCount() {
        return gauges.entriesCount();
    }

    public List<String> underlyingFiles() {
        return gauges.underlyingFiles();
    }

    public boolean dataAllReady() {
        return gauges.dataAllReady();
    }

    /** Compressed bytes fetched by prefetch workers. */
    public long prefetchDataAmount() {
        return prefetchDataAmount.sum();
    }

    /** Backend requests made by prefetch workers (after merging). */
    public long prefetchRequests() {
        return prefetchRequests.sum();
    }

    /** Chunks handed to prefetch. */
    public long prefetchUnmergedChunks() {
        return prefetchUnmergedChunks.sum();
    }

    /** Chunks handed to prefetch that are now cached (fetched, or found cached already). */
    public long prefetchDone() {
        return prefetchDone.sum();
    }

    public long prefetchErrors() {
        return prefetchErrors.sum();
    }

    /** Chunks handed to prefetch and not finished yet. */
    public long prefetchPending() {
        return gauges.prefetchPending();
    }

    /** The metrics as upstream's {@code BlobcacheMetrics} JSON object (plus a few fields of ours). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("underlying_files", underlyingFiles());
        m.put("store_path", storePath);
        m.put("partial_hits", partialHits());
        m.put("whole_hits", wholeHits());
        m.put("total", total());
        m.put("entries_count", entriesCount());
        m.put("prefetch_data_amount", prefetchDataAmount());
        m.put("prefetch_requests_count", prefetchRequests());
        m.put("prefetch_mr_count", prefetchRequests());
        m.put("prefetch_workers", prefetchWorkers);
        m.put("prefetch_unmerged_chunks", prefetchUnmergedChunks());
        m.put("prefetch_done_chunks", prefetchDone());
        m.put("prefetch_pending_chunks", prefetchPending());
        m.put("prefetch_errors", prefetchErrors());
        long begin = prefetchBeginMillis.get();
        long end = prefetchEndMillis.get();
        m.put("prefetch_begin_time_secs", begin / 1000);
        m.put("prefetch_begin_time_millis", begin % 1000);
        m.put("prefetch_end_time_secs", end / 1000);
        m.put("prefetch_end_time_millis", end % 1000);
        m.put("buffered_backend_size", 0);
        m.put("data_all_ready", dataAllReady());
        m.put("misses", misses());
        m.put("verify_failures", verifyFailures());
        return m;
    }
}
