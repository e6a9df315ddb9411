package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static io.nydus.blobcache.cache.CacheTestKit.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The size limit, LRU eviction of whole blobs, and deleting one blob's cache files. */
class CacheSpaceTest {
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    private List<SyntheticBlob> blobs(int n) throws IOException {
        List<SyntheticBlob> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V6_TOC, 100 + i, 16, CHUNK,
                    Compressor.LZ4_BLOCK, Digester.SHA256));
        }
        return out;
    }

    private static void readAll(CachedChunkSource s, SyntheticBlob b) throws IOException {
        for (ChunkInfo c : b.chunks) {
            assertArrayEquals(b.data.get(c.index()), read(s, c, true));
        }
    }

    @Test
    void leastRecentlyUsedIdleBlobsAreEvictedUnderTheSizeLimit() throws Exception {
        List<SyntheticBlob> blobs = blobs(3);
        Path work = tmp.resolve("cache");
        long oneBlob = 16L * CHUNK + 64 * 1024; // data plus the small meta, digest and toc files, roughly
        long limit = 2 * oneBlob + oneBlob / 2;
        List<CachedChunkSource> images = new ArrayList<>();
        try {
            for (SyntheticBlob b : blobs) {
                images.add(CacheTestKit.open(b, CacheTestKit.backendFor(b), config(work, false, limit,
                        PrefetchConfig.DISABLED)));
            }
            readAll(images.get(0), blobs.get(0));
            Thread.sleep(20);
            readAll(images.get(1), blobs.get(1));
            Thread.sleep(20);
            // Blob 0 is used again, so blob 1 is now the least recently used.
            Thread.sleep(150);
            readAll(images.get(0), blobs.get(0));
            Thread.sleep(150);
            readAll(images.get(2), blobs.get(2));

            CacheSpace space = images.get(0).space();
            assertTrue(space.usage() <= limit, space.usage() + " > " + limit);
            assertTrue(Files.exists(new BlobCacheFiles(work, blobs.get(0).blobId).data()));
            assertFalse(Files.exists(new BlobCacheFiles(work, blobs.get(1).blobId).data()), "LRU blob evicted");
            assertFalse(Files.exists(new BlobCacheFiles(work, blobs.get(1).blobId).chunkMap()));
            assertTrue(Files.exists(new BlobCacheFiles(work, blobs.get(2).blobId).data()));
            assertEquals(sizeOfFiles(work), space.usage());

            // The evicted blob's image still reads it: fetched again.
            readAll(images.get(1), blobs.get(1));
            assertTrue(space.usage() <= limit);
        } finally {
            for (CachedChunkSource s : images) {
                s.close();
            }
        }
    }

    @Test
    void filesLeftByEarlierRunsCountAndAreEvictedFirst() throws Exception {
        List<SyntheticBlob> blobs = blobs(2);
        Path work = tmp.resolve("cache");
        try (CachedChunkSource s = CacheTestKit.open(blobs.get(0), CacheTestKit.backendFor(blobs.get(0)),
                config(work, false))) {
            readAll(s, blobs.get(0));
        }
        long leftover = sizeOfFiles(work);
        assertTrue(leftover > 15L * CHUNK);
        assertEquals(leftover, CacheSpace.forDir(work).usage());
        try (CachedChunkSource s = CacheTestKit.open(blobs.get(1), CacheTestKit.backendFor(blobs.get(1)),
                config(work, false, leftover + leftover / 2, PrefetchConfig.DISABLED))) {
            readAll(s, blobs.get(1));
            assertFalse(Files.exists(new BlobCacheFiles(work, blobs.get(0).blobId).data()));
            assertEquals(sizeOfFiles(work), s.space().usage());
        }
    }

    @Test
    void deletingOneBlobsCacheRemovesItsFilesOnly() throws Exception {
        List<SyntheticBlob> blobs = blobs(2);
        Path work = tmp.resolve("cache");
        CountingBackend backend = CacheTestKit.backendFor(blobs.get(0));
        try (CachedChunkSource a = CacheTestKit.open(blobs.get(0), backend, config(work, true));
                CachedChunkSource b = CacheTestKit.open(blobs.get(1), CacheTestKit.backendFor(blobs.get(1)),
                        config(work, true))) {
            readAll(a, blobs.get(0));
            readAll(b, blobs.get(1));
            a.deleteBlobCache(blobs.get(0).blobId);
            for (Path p : new BlobCacheFiles(work, blobs.get(0).blobId).all()) {
                assertFalse(Files.exists(p), p.toString());
            }
            assertTrue(Files.exists(new BlobCacheFiles(work, blobs.get(1).blobId).chunkMap()));
            assertEquals(sizeOfFiles(work), a.space().usage());
            backend.clear();
            readAll(a, blobs.get(0));
            assertFalse(backend.requests().isEmpty(), "deleted chunks are fetched again");
        }
        // Deleting a blob nobody has open works too.
        CacheSpace.forDir(work).delete(blobs.get(1).blobId);
        assertFalse(Files.exists(new BlobCacheFiles(work, blobs.get(1).blobId).data()));
    }

    @Test
    void imagesSharingABlobShareItsCache() throws Exception {
        SyntheticBlob blob = blobs(1).get(0);
        Path work = tmp.resolve("cache");
        CountingBackend first = CacheTestKit.backendFor(blob);
        CountingBackend second = CacheTestKit.backendFor(blob);
        try (CachedChunkSource a = CacheTestKit.open(blob, first, config(work, true))) {
            try (CachedChunkSource b = CacheTestKit.open(blob, second, config(work, true))) {
                readAll(a, blob);
                readAll(b, blob);
                assertEquals(List.of(blob.blobId), a.space().openBlobs());
            }
            // The other image went away; this one keeps reading from the same files.
            readAll(a, blob);
        }
        assertEquals(List.of(), second.requests(), "the second image found every chunk cached by the first");
        assertEquals(List.of(), CacheSpace.forDir(work).openBlobs(), "closed with the last image");
    }

    @Test
    void temporaryFilesOfDeadProcessesAreRemovedAtFirstUse() throws Exception {
        Path work = tmp.resolve("cache");
        Files.createDirectories(work);
        String id = "ab".repeat(32);
        Path dead = work.resolve(id + ".blob.meta.tmp999999999-7");
        Path alive = work.resolve(id + ".blob.digest.tmp" + ProcessHandle.current().pid() + "-7");
        Path other = work.resolve("notes.txt.tmp999999999-7");
        Files.write(dead, new byte[10]);
        Files.write(alive, new byte[10]);
        Files.write(other, new byte[10]);
        assertEquals(0, CacheSpace.forDir(work).usage());
        assertFalse(Files.exists(dead));
        assertTrue(Files.exists(alive), "a live process may still be writing it");
        assertTrue(Files.exists(other), "not ours");
    }

    private static long sizeOfFiles(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> BlobCacheFiles.blobIdOf(p.getFileName().toString()) != null).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
    }
}
