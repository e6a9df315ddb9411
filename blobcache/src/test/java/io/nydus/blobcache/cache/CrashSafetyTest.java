package io.nydus.blobcache.cache;

import static io.nydus.blobcache.cache.CacheTestKit.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.blob.BlobMeta;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM fills the cache and is killed with SIGKILL at random moments; after every kill, each chunk the
 * chunk_map marks ready has the right bytes, and a restarted source completes the blob.
 */
class CrashSafetyTest {
    private static final int KILLS = 24;

    @TempDir
    Path tmp;

    @Test
    void sigkillNeverLeavesAReadyChunkWithWrongBytes() throws Exception {
        SyntheticBlob blob = SyntheticBlob.random(tmp.resolve("blobs"), SyntheticBlob.Layout.V6_TOC, 77, 96,
                32 << 10, Compressor.ZSTD, Digester.BLAKE3);
        Path work = tmp.resolve("cache");
        BlobCacheFiles files = new BlobCacheFiles(work, blob.blobId);
        CountingBackend backend = CacheTestKit.backendFor(blob);
        // Load the classes the end of the test needs now: other builds in this checkout may replace them meanwhile.
        try (CachedChunkSource warm = CacheTestKit.open(blob, CacheTestKit.backendFor(blob),
                config(tmp.resolve("warm"), true))) {
            CacheTestKit.read(warm, blob.chunks.get(0), true);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                // Sync and persist readiness often, so that kills land between data writes and bitmap updates.
                "-Dnydus.blobcache.flushMillis=5", "-cp", privateClassPath(tmp.resolve("cp")),
                CacheFillerMain.class.getName()));
        cmd.addAll(CacheFillerMain.args(work, blob));
        Random rnd = new Random(2024);
        int partial = 0;
        int checked = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            Process child = new ProcessBuilder(cmd).redirectError(tmp.resolve("child-" + kill + ".err").toFile())
                    .start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            String line = out.readLine();
            assertEquals("filling", line, "child did not start: " + Files.readString(tmp.resolve("child-" + kill
                    + ".err")));
            Thread.sleep(rnd.nextInt(1200));
            child.destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));

            BitSet ready = CacheTestKit.readyBits(files.chunkMap(), blob.full.size());
            System.out.println("kill " + kill + ": " + ready.cardinality() + " chunks ready");
            if (ready.cardinality() > 0 && ready.cardinality() < blob.full.size()) {
                partial++;
            }
            for (int i = ready.nextSetBit(0); i >= 0; i = ready.nextSetBit(i + 1)) {
                ChunkInfo c = blob.full.get(i);
                byte[] cached = CacheTestKit.cachedBytes(files.data(), c);
                assertTrue(cached != null, "kill " + kill + ": chunk " + i + " ready but its data is missing");
                assertArrayEquals(c.digest(), blob.digester.digest(cached), "kill " + kill + ": chunk " + i);
                checked++;
            }
            // Metadata cache files are never partial either.
            if (Files.exists(files.meta())) {
                assertEquals(blob.full.size(), BlobMeta.fromCacheFile(Files.readAllBytes(files.meta())).header()
                        .entries());
            }
            if (Files.exists(files.digest())) {
                assertEquals(32L * blob.full.size(), Files.size(files.digest()));
            }
        }
        assertTrue(partial >= 3, "only " + partial + " kills landed while the blob was partly cached");
        assertTrue(checked > 0);

        BitSet before = CacheTestKit.readyBits(files.chunkMap(), blob.full.size());
        try (CachedChunkSource s = CacheTestKit.open(blob, backend, config(work, true))) {
            for (ChunkInfo c : blob.chunks) {
                assertArrayEquals(blob.data.get(c.index()), CacheTestKit.read(s, c, true));
            }
            assertTrue(s.metrics().dataAllReady());
        }
        assertTrue(CacheTestKit.allReadyFlag(files.chunkMap()));
        for (int i = before.nextSetBit(0); i >= 0; i = before.nextSetBit(i + 1)) {
            ChunkInfo c = blob.full.get(i);
            assertEquals(0, backend.readsTouching(c.compressedOffset(), c.compressedSize()),
                    "chunk " + i + " was cached before the restart");
        }
    }

    /**
     * This JVM's class path with the module's class directories and the project's own jars copied aside, so that a
     * build running meanwhile in the same checkout cannot pull classes from under the child processes.
     */
    private static String privateClassPath(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            boolean ours = Files.isDirectory(p) || entry.contains("/io/nydus/");
            if (!ours || !Files.exists(p)) {
                out.add(entry);
                continue;
            }
            Path copy = dir.resolve(n++ + "-" + p.getFileName());
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path f : (Iterable<Path>) walk::iterator) {
                    Path target = copy.resolve(p.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.createDirectories(target.getParent());
                        Files.copy(f, target);
                    }
                }
            }
            out.add(copy.toString());
        }
        return String.join(File.pathSeparator, out);
    }
}
