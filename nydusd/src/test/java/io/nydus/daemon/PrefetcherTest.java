package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.builder.CreateOptions;
import io.nydus.builder.ImageCreator;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsSuper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the daemon hands the chunk cache to prefetch: the files of {@code --prefetch-files} (directories with
 * everything below), else the bootstrap's prefetch table, then every chunk with {@code prefetch_all}; nothing
 * when prefetch is off.
 */
class PrefetcherTest {
    @TempDir
    Path dir;

    /** A chunk source that records what it is asked to prefetch. */
    public static final class RecordingSource implements ChunkSource {
        final List<ChunkInfo> asked = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void prefetch(List<ChunkInfo> chunks) {
            asked.addAll(chunks);
        }

        @Override
        public void read(ChunkInfo chunk, int offsetInChunk, ByteBuffer dst, ReadPriority priority) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private Path image() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        for (String d : List.of("a/x", "b", "c")) {
            Files.createDirectories(src.resolve(d));
        }
        int n = 0;
        for (String f : List.of("a/x/1", "a/x/2", "a/3", "b/4", "c/5", "top")) {
            byte[] b = new byte[70_000 + 1000 * n++];
            new java.util.Random(n).nextBytes(b);
            Files.write(src.resolve(f), b);
        }
        CreateOptions o = new CreateOptions();
        o.source = src;
        o.chunkSize = 0x10000;
        o.bootstrap = dir.resolve("img.boot");
        o.blobDir = Files.createDirectories(dir.resolve("blobs"));
        o.prefetchPatterns = List.of("/b", "/top");
        return ImageCreator.create(o).bootstrap();
    }

    private static Set<String> chunksUnder(RafsSuper sb, String... paths) throws Exception {
        Set<String> out = new TreeSet<>();
        sb.walk(e -> {
            for (String p : paths) {
                if (e.inode().isReg() && (e.path().equals(p) || e.path().startsWith(p + "/") || p.equals("/"))) {
                    for (ChunkInfo c : sb.chunks(e.ino())) {
                        out.add(key(c));
                    }
                }
            }
        });
        return out;
    }

    private static String key(ChunkInfo c) {
        return c.blobIndex() + ":" + c.compressedOffset();
    }

    private Set<String> prefetched(Path boot, String prefetchJson, List<String> files) throws Exception {
        String cfg = "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + dir.resolve("blobs")
                + "\"}}},\"mode\":\"direct\"" + prefetchJson + "}";
        NydusdConfig c = NydusdConfig.parse(cfg, new ArrayList<>());
        RecordingSource src = new RecordingSource();
        RafsSuper sb = RafsSuper.open(boot);
        BlobBackend backend = c.createBackend(new ArrayList<>());
        RafsImage img = RafsImage.of("/", boot, c, sb, backend, src, files);
        try {
            img.startPrefetch();
            assertTrue(img.prefetcher().await(30_000));
            Set<String> got = new TreeSet<>();
            src.asked.forEach(x -> got.add(key(x)));
            return got;
        } finally {
            img.close();
        }
    }

    @Test
    void listedFilesThenTheTableThenEverything() throws Exception {
        Path boot = image();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            assertTrue(sb.prefetchInodes().length > 0, "the builder wrote a prefetch table");
            String on = ",\"fs_prefetch\":{\"enable\":true,\"threads_count\":2,\"prefetch_all\":false}";
            assertEquals(chunksUnder(sb, "/a/x", "/c/5"), prefetched(boot, on, List.of("/a/x", "/c/5", "/missing")));
            assertEquals(chunksUnder(sb, "/b", "/top"), prefetched(boot, on, List.of()));
            assertEquals(chunksUnder(sb, "/"), prefetched(boot, on.replace("false", "true"), List.of("/a/3")));
            assertEquals(Set.of(), prefetched(boot, on.replace("\"enable\":true", "\"enable\":false"), List.of("/b")));
        }
    }
}
