package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static io.nydus.blobcache.cache.CacheTestKit.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.ChunkSources;
import io.nydus.blobcache.DirectChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.LocalFsBackend;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.BlobSections;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.testdata.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bytes read through the cache equal the blob's chunks, for every layout, compressor and digester. */
class CachedChunkSourceRoundTripTest {
    private static final String V6_BLOB = "be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef";
    private static final String V5_BLOB = "7334a2594e133cf8ae364189c2276b090fc490c627bcc3fb1077f0419a538e00";

    @TempDir
    Path tmp;

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (SyntheticBlob.Layout l : SyntheticBlob.Layout.values()) {
            for (Compressor c : List.of(Compressor.ZSTD, Compressor.LZ4_BLOCK, Compressor.NONE)) {
                for (Digester d : Digester.values()) {
                    out.add(Arguments.of(l, c, d));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("variants")
    void syntheticBlobReadsBackThroughTheCache(SyntheticBlob.Layout layout, Compressor compressor, Digester digester)
            throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), layout, layout.ordinal() * 31 + compressor.id(),
                13, 64 << 10, compressor, digester);
        Path work = tmp.resolve("cache");
        Random rnd = new Random(7);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < blob.chunks.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, rnd);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        try (ChunkSource cached = ChunkSources.open(List.of(blob.info), backend,
                config(work, true));
                DirectChunkSource direct = new DirectChunkSource(List.of(blob.info), LocalFsBackend.ofDir(blob.file.getParent()), true)) {
            assertTrue(cached instanceof CachedChunkSource);
            for (int i : order) {
                ChunkInfo c = blob.chunks.get(i);
                int size = c.uncompressedSize();
                int off = rnd.nextInt(size);
                int len = 1 + rnd.nextInt(size - off);
                byte[] part = read(cached, c, off, len, rnd.nextBoolean(), ReadPriority.ON_DEMAND);
                assertArrayEquals(java.util.Arrays.copyOfRange(blob.data.get(i), off, off + len), part, "chunk " + i);
                byte[] whole = read(cached, c, true);
                assertArrayEquals(blob.data.get(i), whole, "chunk " + i);
                assertArrayEquals(read(direct, blob.full.get(i), false), whole, "chunk " + i);
                assertArrayEquals(blob.full.get(i).digest(), digester.digest(whole), "chunk " + i);
            }
            BlobCacheMetrics m = ((CachedChunkSource) cached).metrics();
            assertEquals(2L * blob.chunks.size(), m.total());
            assertEquals(m.total(), m.wholeHits() + m.partialHits() + m.misses());
            if (layout != SyntheticBlob.Layout.V6_PLAIN) {
                assertTrue(m.wholeHits() >= blob.chunks.size(), "second read of each chunk is a whole hit");
            } else {
                // No digest anywhere: a chunk fetched as a neighbour is checked (as far as possible) at first use.
                assertTrue(m.wholeHits() + m.partialHits() >= blob.chunks.size());
            }
            if (layout == SyntheticBlob.Layout.V6_TOC || layout == SyntheticBlob.Layout.V6_PLAIN) {
                // 13 chunks of <= 64 KiB fit in amplify_io (1 MiB): the ci table lets the first miss take them all.
                assertTrue(m.misses() < blob.chunks.size() / 2, "neighbours come with the first fetch (amplify_io)");
            }
        }
        assertTrue(backend.isClosed());

        BlobCacheFiles files = new BlobCacheFiles(work, blob.blobId);
        assertTrue(Files.exists(files.data()));
        boolean indexed = layout != SyntheticBlob.Layout.V5_NO_CHUNK_COUNT;
        assertEquals(indexed, Files.exists(files.chunkMap()));
        boolean v6 = layout == SyntheticBlob.Layout.V6_TOC || layout == SyntheticBlob.Layout.V6_PLAIN;
        assertEquals(v6, Files.exists(files.meta()));
        assertEquals(layout == SyntheticBlob.Layout.V6_TOC, Files.exists(files.digest()));
        assertEquals(layout == SyntheticBlob.Layout.V6_TOC, Files.exists(files.toc()));
        if (v6) {
            try (BlobReader r = BlobReader.ofFile(blob.file)) {
                assertArrayEquals(BlobMeta.fromBlob(r, blob.info).toCacheFile(), Files.readAllBytes(files.meta()));
            }
        }
        if (indexed) {
            assertEquals(blob.chunks.size(), CacheTestKit.readyBits(files.chunkMap(), blob.chunks.size()).cardinality());
            assertTrue(CacheTestKit.allReadyFlag(files.chunkMap()));
            for (ChunkInfo c : blob.full) {
                assertArrayEquals(blob.data.get(c.index()), CacheTestKit.cachedBytes(files.data(), c));
            }
        }

        // A restart serves every chunk from the cache files: no backend reads at all for indexed blobs.
        CountingBackend again = CacheTestKit.backendFor(blob);
        try (CachedChunkSource cached = CacheTestKit.open(blob, again, config(work, true))) {
            for (int i : order) {
                assertArrayEquals(blob.data.get(i), read(cached, blob.chunks.get(i), false));
            }
        }
        if (indexed) {
            assertEquals(List.of(), again.requests());
        } else {
            assertFalse(again.requests().isEmpty(), "readiness of blobs without chunk count lives in memory only");
        }
    }

    @Test
    void upstreamV6FixtureFilesReadLikeDirect() throws Exception {
        Path boot = Fixtures.get("bootstrap/rafs-v6-2.2.boot");
        Path blobs = Fixtures.get("blobs/" + V6_BLOB).getParent();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            compareEveryFile(sb, blobs, tmp.resolve("resolved"), false);
            // The same chunks as a v6 bootstrap without chunk table gives them: resolved through the ci table,
            // verified with the blob's digest array.
            compareEveryFile(sb, blobs, tmp.resolve("unresolved"), true);
        }
        BlobCacheFiles files = new BlobCacheFiles(tmp.resolve("unresolved"), V6_BLOB);
        try (BlobReader r = BlobReader.ofFile(blobs.resolve(V6_BLOB)); RafsSuper sb = RafsSuper.open(boot)) {
            BlobSections s = BlobSections.read(r);
            assertArrayEquals(s.load(r, s.find(TarHeader.BLOB_DIGEST), 1 << 20), Files.readAllBytes(files.digest()));
            assertArrayEquals(s.rawToc(), Files.readAllBytes(files.toc()));
            assertArrayEquals(BlobMeta.fromBlob(r, sb.blobs().get(0)).toCacheFile(), Files.readAllBytes(files.meta()));
        }
    }

    @Test
    void upstreamV5FixtureFilesReadLikeDirect() throws Exception {
        Path boot = Fixtures.get("repeatable/sha256-nocompress-repeatable");
        Path blobs = Fixtures.get("repeatable/blobs/" + V5_BLOB).getParent();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            int files = compareEveryFile(sb, blobs, tmp.resolve("v5"), false);
            assertTrue(files > 10);
            BlobInfo blob = sb.blobs().get(0);
            Path map = new BlobCacheFiles(tmp.resolve("v5"), blob.blobId()).chunkMap();
            assertEquals(blob.chunkCount(), CacheTestKit.readyBits(map, blob.chunkCount()).cardinality());
        }
    }

    /** Reads every regular file through the cache in 128 KiB requests and compares with a direct read. */
    private static int compareEveryFile(RafsSuper sb, Path blobDir, Path work, boolean unresolve) throws Exception {
        int[] files = {0};
        try (ChunkSource cached = ChunkSources.open(sb.blobs(), LocalFsBackend.ofDir(blobDir), config(work, true));
                DirectChunkSource direct = new DirectChunkSource(sb.blobs(), LocalFsBackend.ofDir(blobDir), true)) {
            sb.walk(e -> {
                if (!e.inode().isReg()) {
                    return;
                }
                ByteArrayOutputStream viaCache = new ByteArrayOutputStream();
                ByteArrayOutputStream viaDirect = new ByteArrayOutputStream();
                for (ChunkInfo c : sb.chunks(e.ino())) {
                    ChunkInfo asGiven = unresolve ? new ChunkInfo(null, c.blobIndex(), 0, -1, 0,
                            c.uncompressedOffset(), c.uncompressedSize(), c.fileOffset(), c.index(), 0) : c;
                    ByteBuffer fuse = ByteBuffer.allocateDirect(128 << 10);
                    for (int off = 0; off < c.uncompressedSize(); off += fuse.capacity()) {
                        fuse.clear().limit(Math.min(fuse.capacity(), c.uncompressedSize() - off));
                        cached.read(asGiven, off, fuse, ReadPriority.ON_DEMAND);
                        fuse.flip();
                        byte[] piece = new byte[fuse.remaining()];
                        fuse.get(piece);
                        viaCache.write(piece);
                    }
                    byte[] d = read(direct, c, false);
                    viaDirect.write(d);
                    assertArrayEquals(c.digest(), sb.digester().digest(d), e.path());
                }
                assertEquals(e.inode().size(), viaCache.size(), e.path());
                assertArrayEquals(viaDirect.toByteArray(), viaCache.toByteArray(), e.path());
                files[0]++;
            });
        }
        return files[0];
    }
}
