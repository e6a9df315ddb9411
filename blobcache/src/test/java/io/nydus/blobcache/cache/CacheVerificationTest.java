package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static io.nydus.blobcache.cache.CacheTestKit.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ChunkSources;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verification: altered cache files, corrupt backend bytes, restarts that reuse the cache. */
class CacheVerificationTest {
    @TempDir
    Path tmp;

    private SyntheticBlob blob(SyntheticBlob.Layout layout) throws IOException {
        return SyntheticBlob.random(tmp.resolve("blobs"), layout, 42, 12, 64 << 10, Compressor.ZSTD,
                Digester.SHA256);
    }

    private static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
            ch.write(b, offset);
        }
    }

    private static void fill(SyntheticBlob blob, Path work) throws IOException {
        try (CachedChunkSource s = CacheTestKit.open(blob, CacheTestKit.backendFor(blob), config(work, true))) {
            for (ChunkInfo c : blob.chunks) {
                read(s, c, true);
            }
        }
    }

    @Test
    void alteredCacheFileIsDetectedAtFirstUseAndFetchedAgain() throws IOException {
        for (SyntheticBlob.Layout layout : List.of(SyntheticBlob.Layout.V6_TOC, SyntheticBlob.Layout.V5)) {
            SyntheticBlob blob = blob(layout);
            Path work = tmp.resolve("cache-" + layout);
            fill(blob, work);
            ChunkInfo victim = blob.full.get(5);
            flip(new BlobCacheFiles(work, blob.blobId).data(), victim.uncompressedOffset() + 1000);

            CountingBackend backend = CacheTestKit.backendFor(blob);
            try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, true))) {
                for (ChunkInfo c : blob.chunks) {
                    assertArrayEquals(blob.data.get(c.index()), read(s, c, true), layout + " chunk " + c.index());
                }
                assertEquals(1, s.metrics().verifyFailures());
            }
            // Only the altered chunk went to the backend.
            assertEquals(1, backend.requests().size(), layout.toString());
            assertTrue(backend.requests().get(0).covers(victim.compressedOffset(), victim.compressedSize()));
            assertArrayEquals(blob.data.get(5),
                    CacheTestKit.cachedBytes(new BlobCacheFiles(work, blob.blobId).data(), victim));
        }
    }

    @Test
    void withoutValidateCachedChunksAreTrustedAfterRestart() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V6_TOC);
        Path work = tmp.resolve("cache");
        fill(blob, work);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, false))) {
            for (ChunkInfo c : blob.chunks) {
                assertArrayEquals(blob.data.get(c.index()), read(s, c, true));
            }
            assertEquals(blob.chunks.size(), s.metrics().wholeHits());
        }
        assertEquals(List.of(), backend.requests());
    }

    @Test
    void corruptBackendBytesFailTheReadAndLeaveTheChunkNotReady() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V6_TOC);
        Path work = tmp.resolve("cache");
        ChunkInfo victim = blob.full.get(3);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        backend.corruptAt(victim.compressedOffset() + victim.compressedSize() / 2);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, false))) {
            IOException e = assertThrows(IOException.class, () -> read(s, blob.chunks.get(3), true));
            assertTrue(e.getMessage().contains(blob.blobId) && e.getMessage().contains("chunk 3"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            // Fetched, then fetched once more on its own; both corrupt.
            assertEquals(2, backend.readsCovering(victim.compressedOffset(), victim.compressedSize()));
            s.flush();
            BitSet ready = CacheTestKit.readyBits(new BlobCacheFiles(work, blob.blobId).chunkMap(), 12);
            assertFalse(ready.get(3));
            // The neighbours fetched with it (amplify_io) are fine and ready.
            assertTrue(ready.get(4));
            // Once the backend serves good bytes again, the chunk reads fine.
            backend.stopCorrupting();
            assertArrayEquals(blob.data.get(3), read(s, blob.chunks.get(3), true));
        }
    }

    @Test
    void aCorruptFetchIsRepairedBySecondFetch() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V5);
        ChunkInfo victim = blob.full.get(7);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        backend.corruptOnceAt(victim.compressedOffset() + 10);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(tmp.resolve("cache"), false))) {
            assertArrayEquals(blob.data.get(7), read(s, victim, false));
        }
        assertEquals(2, backend.readsCovering(victim.compressedOffset(), victim.compressedSize()));
    }

    @Test
    void restartFetchesOnlyWhatWasNotCached() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V5);
        Path work = tmp.resolve("cache");
        try (CachedChunkSource s = CacheTestKit.open(blob, CacheTestKit.backendFor(blob), config(work, true))) {
            for (int i = 0; i < 12; i += 2) {
                read(s, blob.chunks.get(i), true);
            }
        }
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, true))) {
            for (ChunkInfo c : blob.chunks) {
                assertArrayEquals(blob.data.get(c.index()), read(s, c, true));
            }
            assertEquals(6, s.metrics().misses());
        }
        for (ChunkInfo c : blob.full) {
            assertEquals(c.index() % 2 == 0 ? 0 : 1, backend.readsTouching(c.compressedOffset(), c.compressedSize()),
                    "chunk " + c.index());
        }
    }

    @Test
    void truncatedDataFileIsFetchedAgainEvenWithoutValidate() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V6_TOC);
        Path work = tmp.resolve("cache");
        fill(blob, work);
        Path data = new BlobCacheFiles(work, blob.blobId).data();
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
            ch.truncate(blob.full.get(11).uncompressedOffset() + 10);
        }
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, false))) {
            assertArrayEquals(blob.data.get(11), read(s, blob.chunks.get(11), true));
            assertArrayEquals(blob.data.get(0), read(s, blob.chunks.get(0), true));
        }
        assertEquals(1, backend.requests().size());
    }

    @Test
    void holesReadAsZerosWithoutTouchingTheBackend() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V5);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(tmp.resolve("cache"), true))) {
            assertArrayEquals(new byte[200_000], read(s, ChunkInfo.hole(0, 200_000), true));
            assertArrayEquals(new byte[1000], CacheTestKit.read(s, ChunkInfo.hole(0, 4096), 5, 1000, false,
                    io.nydus.blobcache.ReadPriority.ON_DEMAND));
        }
        assertEquals(List.of(), backend.requests());
    }

    @Test
    void readsOutsideTheChunkAreRefused() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V5);
        try (CachedChunkSource s = CacheTestKit.open(blob, CacheTestKit.backendFor(blob),
                config(tmp.resolve("cache"), true))) {
            ChunkInfo c = blob.chunks.get(0);
            IOException e = assertThrows(IOException.class, () -> CacheTestKit.read(s, c, c.uncompressedSize() - 10,
                    20, true, io.nydus.blobcache.ReadPriority.ON_DEMAND));
            assertTrue(e.getMessage().contains(blob.blobId) && e.getMessage().contains("chunk 0"), e.getMessage());
            ChunkInfo beyond = new ChunkInfo(c.digest(), 0, c.flags(), c.compressedOffset(), c.compressedSize(),
                    c.uncompressedOffset(), c.uncompressedSize(), 0, 12, 0);
            e = assertThrows(IOException.class, () -> read(s, beyond, true));
            assertTrue(e.getMessage().contains("chunk 12") && e.getMessage().contains("12 chunks"), e.getMessage());
        }
    }

    @Test
    void compressedCacheIsRefusedWithAClearError() {
        SyntheticBlob.Layout l = SyntheticBlob.Layout.V5;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            SyntheticBlob blob = blob(l);
            ChunkSources.open(List.of(blob.info), CacheTestKit.backendFor(blob),
                    new CacheConfig("filecache", tmp.resolve("c"), true, false, 1 << 20, 0,
                            PrefetchConfig.DISABLED));
        });
        assertTrue(e.getMessage().contains("compressed"), e.getMessage());
    }

    @Test
    void metricsUseUpstreamFieldNames() throws IOException {
        SyntheticBlob blob = blob(SyntheticBlob.Layout.V6_TOC);
        Path work = tmp.resolve("cache");
        try (CachedChunkSource s = CacheTestKit.open(blob, CacheTestKit.backendFor(blob), config(work, true))) {
            read(s, blob.chunks.get(0), true);
            read(s, blob.chunks.get(0), true);
            var m = s.cacheMetrics();
            for (String k : List.of("underlying_files", "store_path", "partial_hits", "whole_hits", "total",
                    "entries_count", "prefetch_data_amount", "prefetch_requests_count", "prefetch_workers",
                    "prefetch_unmerged_chunks", "data_all_ready")) {
                assertTrue(m.containsKey(k), k);
            }
            assertEquals(2L, m.get("total"));
            assertEquals(1L, m.get("whole_hits"));
            assertEquals(12L, m.get("entries_count"), "the first miss brought all 12 chunks (amplify_io)");
            assertEquals(true, m.get("data_all_ready"));
            assertEquals(work.toRealPath().toString(), m.get("store_path"));
            assertTrue(((List<?>) m.get("underlying_files")).contains(
                    new BlobCacheFiles(work.toRealPath(), blob.blobId).data().toString()));
        }
    }
}
