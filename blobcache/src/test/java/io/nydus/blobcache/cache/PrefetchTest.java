package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static io.nydus.blobcache.cache.CacheTestKit.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Background prefetch: completes, merges, yields to on-demand reads, respects the bandwidth limit. */
class PrefetchTest {
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    @Test
    void prefetchFillsTheCacheInTheBackgroundWithMergedRequests() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V5, 1, 40, CHUNK,
                Compressor.NONE, Digester.BLAKE3);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        Path work = tmp.resolve("cache");
        try (CachedChunkSource s = CacheTestKit.open(blob, backend,
                config(work, true, 0, CacheTestKit.prefetch(2, 4 * CHUNK, 0)))) {
            List<ChunkInfo> all = new ArrayList<>(blob.chunks);
            all.addAll(blob.chunks.subList(0, 5)); // duplicates are fine
            s.prefetch(all);
            assertTrue(s.awaitPrefetch(30, TimeUnit.SECONDS));
            BlobCacheMetrics m = s.metrics();
            assertEquals(45, m.prefetchUnmergedChunks());
            assertEquals(45, m.prefetchDone());
            assertEquals(0, m.prefetchPending());
            assertEquals(0, m.prefetchErrors());
            // 40 chunks of 64 KiB, merging_size 256 KiB: 10 requests.
            assertEquals(10, backend.requests().size());
            assertEquals(10, m.prefetchRequests());
            assertTrue(backend.requests().stream().allMatch(r -> r.priority() == ReadPriority.PREFETCH));
            assertEquals(blob.info.compressedSize(), m.prefetchDataAmount());
            assertTrue(m.dataAllReady());
            backend.clear();
            for (ChunkInfo c : blob.chunks) {
                assertArrayEquals(blob.data.get(c.index()), read(s, c, true));
            }
            assertEquals(List.of(), backend.requests());
            assertEquals(40, m.wholeHits());
        }
    }

    @Test
    void unresolvedV6ChunksArePrefetchedThroughTheCiTable() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V6_TOC, 2, 30, CHUNK,
                Compressor.ZSTD, Digester.BLAKE3);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend,
                config(tmp.resolve("cache"), true, 0, CacheTestKit.prefetch(3, 1 << 20, 0)))) {
            s.prefetch(blob.chunks);
            assertTrue(s.awaitPrefetch(30, TimeUnit.SECONDS));
            assertTrue(s.metrics().dataAllReady());
            backend.clear();
            for (ChunkInfo c : blob.chunks) {
                assertArrayEquals(blob.data.get(c.index()), read(s, c, false));
            }
            assertEquals(List.of(), backend.requests());
        }
    }

    @Test
    void onDemandReadsGoFirstWhilePrefetchWaits() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V5, 3, 80, CHUNK,
                Compressor.NONE, Digester.SHA256);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        // Slow on-demand reads, quick prefetch requests: without priority, dozens of prefetch requests would
        // start while each read waits.
        backend.delayMillis(60, 3);
        int workers = 2;
        try (CachedChunkSource s = CacheTestKit.open(blob, backend,
                config(tmp.resolve("cache"), true, 0, CacheTestKit.prefetch(workers, CHUNK, 0)))) {
            s.prefetch(blob.chunks);
            Thread.sleep(30);
            // Read chunks from the end while prefetch works from the start.
            for (int i = 79; i >= 75; i--) {
                assertArrayEquals(blob.data.get(i), read(s, blob.chunks.get(i), true));
            }
            assertTrue(s.metrics().prefetchPending() > 0, "prefetch still running: reads did not wait for it");
            assertTrue(s.awaitPrefetch(30, TimeUnit.SECONDS));
        }
        List<CountingBackend.Request> reqs = backend.requests();
        List<CountingBackend.Request> onDemand = reqs.stream()
                .filter(r -> r.priority() == ReadPriority.ON_DEMAND).toList();
        assertEquals(5, onDemand.size());
        for (CountingBackend.Request od : onDemand) {
            // Only requests of workers that had passed the gate before the read arrived may start meanwhile.
            long startedMeanwhile = reqs.stream().filter(r -> r.priority() == ReadPriority.PREFETCH
                    && r.startNanos() > od.startNanos() && r.startNanos() < od.endNanos()).count();
            assertTrue(startedMeanwhile <= workers, startedMeanwhile + " prefetch requests started while an"
                    + " on-demand read waited");
        }
        // Every chunk was fetched once, by one or the other.
        assertEquals(80, reqs.size());
    }

    @Test
    void readersOfTheChunksPrefetchIsFetchingDoNotDeadlockWithIt() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V6_TOC, 6, 64, CHUNK,
                Compressor.LZ4_BLOCK, Digester.SHA256);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        backend.delayMillis(5);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (CachedChunkSource s = CacheTestKit.open(blob, backend,
                    config(tmp.resolve("cache"), true, 0, CacheTestKit.prefetch(4, 2 * CHUNK, 0)))) {
                s.prefetch(blob.chunks);
                List<Thread> readers = new ArrayList<>();
                List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int id = t;
                    Thread th = new Thread(() -> {
                        try {
                            // The same chunks, in the same order as prefetch takes them.
                            for (int i = id; i < 64; i += 4) {
                                assertArrayEquals(blob.data.get(i), read(s, blob.chunks.get(i), true));
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    });
                    th.start();
                    readers.add(th);
                }
                for (Thread th : readers) {
                    th.join();
                }
                assertEquals(List.of(), failures);
                assertTrue(s.awaitPrefetch(30, TimeUnit.SECONDS));
            }
        });
        for (ChunkInfo c : blob.full) {
            assertEquals(1, backend.readsTouching(c.compressedOffset(), c.compressedSize()), "chunk " + c.index());
        }
    }

    @Test
    void bandwidthLimitIsRespectedRoughly() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V5, 4, 48, CHUNK,
                Compressor.NONE, Digester.SHA256);
        long rate = 1 << 20;
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend,
                config(tmp.resolve("cache"), false, 0, CacheTestKit.prefetch(4, 4 * CHUNK, rate)))) {
            long t0 = System.nanoTime();
            s.prefetch(blob.chunks);
            assertTrue(s.awaitPrefetch(30, TimeUnit.SECONDS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double total = blob.info.compressedSize();
            // One second's worth may go at once; the rest at the rate.
            double expected = (total - rate) / rate;
            assertTrue(seconds > 0.7 * expected, "took " + seconds + " s, expected about " + expected);
            assertTrue(seconds < 3 * expected + 1, "took " + seconds + " s, expected about " + expected);
        }
    }

    @Test
    void prefetchIsOffWhenNotEnabled() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V5, 5, 4, CHUNK,
                Compressor.NONE, Digester.SHA256);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(tmp.resolve("cache"), false))) {
            s.prefetch(blob.chunks);
            assertTrue(s.awaitPrefetch(1, TimeUnit.SECONDS));
            assertEquals(List.of(), backend.requests());
        }
    }
}
