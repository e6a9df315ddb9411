package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.BlobBackends;
import io.nydus.blobcache.backend.RegistryBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.testdata.registry.RegistryServer;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** 64 threads reading overlapping ranges of one blob: every chunk is fetched from the backend exactly once. */
class ConcurrentReadersTest {
    private static final int THREADS = 64;
    private static final int CHUNKS = 48;
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(SyntheticBlob.Layout.class)
    void eachChunkIsFetchedOnce(SyntheticBlob.Layout layout) throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), layout, 9, CHUNKS, CHUNK, Compressor.ZSTD,
                Digester.BLAKE3);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        backend.delayMillis(3);
        Path work = tmp.resolve("cache");
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, true))) {
            runReaders(s, blob);
            BlobCacheMetrics m = s.metrics();
            assertEquals(m.total(), m.wholeHits() + m.partialHits() + m.misses());
        }
        for (ChunkInfo c : blob.full) {
            assertEquals(1, backend.readsTouching(c.compressedOffset(), c.compressedSize()),
                    layout + " chunk " + c.index() + " fetched " + backend.readsTouching(c.compressedOffset(),
                            c.compressedSize()) + " times");
        }

        if (layout != SyntheticBlob.Layout.V5_NO_CHUNK_COUNT) {
            // After a restart, the same storm verifies each cached chunk once and never goes to the backend.
            CountingBackend again = CacheTestKit.backendFor(blob);
            try (CachedChunkSource s = CacheTestKit.open(blob, again, config(work, true))) {
                runReaders(s, blob);
                assertEquals(0, s.metrics().misses());
                assertEquals(0, s.metrics().verifyFailures());
            }
            assertEquals(List.of(), again.requests());
        }
    }

    /**
     * The same storm against a real registry ({@code docker-registry}) through {@code RegistryBackend}: its access
     * log shows one ranged GET per backend request and as many bytes as the chunks (plus the blob's metadata), so
     * nothing was fetched twice, not even by retries below the cache.
     */
    @Test
    void aRealRegistryServesEachChunkOnce() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V6_TOC, 11, CHUNKS,
                CHUNK, Compressor.ZSTD, Digester.SHA256);
        byte[] bytes = Files.readAllBytes(blob.file);
        try (RegistryServer registry = RegistryServer.start(tmp.resolve("registry"))) {
            JsonNode config = new ObjectMapper().readTree("{\"scheme\":\"http\",\"host\":\"" + registry.host()
                    + "\",\"repo\":\"lib/cache\"}");
            RegistryBackend rb = (RegistryBackend) BlobBackends.create("registry", config, new ArrayList<>());
            rb.client().pushBlob("lib/cache", "sha256:" + blob.blobId, BlobSource.ofBytes(bytes));
            long before = blobGets(registry, blob.blobId).size();
            CountingBackend backend = new CountingBackend(rb);
            try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(tmp.resolve("cache"), true))) {
                runReaders(s, blob);
            }
            for (ChunkInfo c : blob.full) {
                assertEquals(1, backend.readsTouching(c.compressedOffset(), c.compressedSize()), "chunk " + c.index());
            }
            List<Long> gets = blobGets(registry, blob.blobId);
            List<Long> ours = gets.subList((int) before, gets.size());
            assertEquals(backend.requests().size(), ours.size(), "GETs in the registry's access log");
            long served = ours.stream().mapToLong(Long::longValue).sum();
            long asked = backend.requests().stream().mapToLong(CountingBackend.Request::len).sum();
            assertEquals(asked, served);
            long chunkBytes = blob.full.stream().mapToLong(ChunkInfo::compressedSize).sum();
            long metaBytes = blob.info.ciCompressedSize() + 4096 + blob.info.tocSize() + 32L * CHUNKS;
            assertEquals(chunkBytes + metaBytes, served, "chunks once, ci table, TOC and digest array once");
        }
    }

    /** Response sizes of the GETs of a blob in the registry's access log (combined log format), in order. */
    private static List<Long> blobGets(RegistryServer registry, String blobId) throws Exception {
        Pattern line = Pattern.compile("\"GET /v2/[^ ]*/blobs/sha256:" + blobId + " HTTP/[0-9.]+\" (\\d+) (\\d+)");
        List<Long> out = new ArrayList<>();
        for (String l : Files.readAllLines(registry.log())) {
            Matcher m = line.matcher(l);
            if (m.find() && m.group(1).startsWith("2")) {
                out.add(Long.parseLong(m.group(2)));
            }
        }
        return out;
    }

    /** Thread t reads a window of 16 chunks starting at chunk t % 33, in pieces at random offsets. */
    private static void runReaders(CachedChunkSource s, SyntheticBlob blob) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    Random rnd = new Random(id);
                    start.await();
                    int first = id % 33;
                    for (int k = 0; k < 16; k++) {
                        int i = first + (id % 2 == 0 ? k : 15 - k);
                        ChunkInfo c = blob.chunks.get(i);
                        int off = rnd.nextInt(c.uncompressedSize());
                        int len = 1 + rnd.nextInt(Math.min(128 << 10, c.uncompressedSize() - off));
                        byte[] got = CacheTestKit.read(s, c, off, len, rnd.nextBoolean(), ReadPriority.ON_DEMAND);
                        assertArrayEquals(Arrays.copyOfRange(blob.data.get(i), off, off + len), got,
                                "thread " + id + " chunk " + i);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
