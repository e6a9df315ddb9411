package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Eight processes read the whole tree at once, with the page cache dropped: every checksum is right. */
class ConcurrentReadTest {
    static final int READERS = 8;

    @TempDir
    Path dir;

    /** ~40 MiB in 120 files of 0 B to 2.5 MiB, some sharing content, in a few directories. */
    static void populate(Path src) throws Exception {
        Random rnd = new Random(7);
        byte[] shared = new byte[1 << 20];
        rnd.nextBytes(shared);
        for (int i = 0; i < 120; i++) {
            Path d = Files.createDirectories(src.resolve("d" + (i % 6)).resolve("s" + (i % 4)));
            int size = i % 10 == 0 ? 0 : rnd.nextInt(5 << 19);
            byte[] b = new byte[size];
            if (i % 7 == 0) {
                for (int k = 0; k < size; k++) {
                    b[k] = shared[k % shared.length];
                }
            } else if (i % 3 == 0) {
                for (int k = 0; k < size; k++) {
                    b[k] = (byte) ("nydus " + (k / 97)).charAt(k % 6);
                }
            } else {
                rnd.nextBytes(b);
            }
            Files.write(d.resolve("f" + i), b);
        }
    }

    /** {@code sha256sum} of every file, by path relative to {@code root}. */
    static Map<String, String> sums(String output, Path root) {
        Map<String, String> m = new TreeMap<>();
        for (String line : output.split("\n")) {
            if (!line.isBlank()) {
                m.put(Path.of(root.toString()).relativize(Path.of(line.substring(66))).toString(), line.substring(0, 64));
            }
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"no-cache", "blobcache"})
    void eightReadersGetTheSameBytes(String cache) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        populate(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        Path boot = BuiltImageTest.build(src, out, "img", RafsVersion.V6, Compressor.ZSTD, Digester.SHA256)
                .bootstrap();
        Map<String, String> expected = sums(ImageChecks.run("bash", "-c", "find '" + src
                + "' -type f -print0 | sort -z | xargs -0 sha256sum"), src);
        Path cfg = dir.resolve("c.json");
        String cacheJson = cache.equals("blobcache") ? ",\"cache\":{\"type\":\"blobcache\",\"config\":{\"work_dir\":\""
                + dir.resolve("cache") + "\"}}" : "";
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\""
                + out.resolve("blobs") + "\"}}" + cacheJson + "},\"mode\":\"direct\",\"digest_validate\":true}");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", boot.toString(), "--thread-num", "8"))) {
            d.awaitMounted(mnt);
            MountInfo.dropCaches();
            List<Process> readers = new ArrayList<>();
            for (int i = 0; i < READERS; i++) {
                // Each reader walks in a different order so that they collide on different chunks.
                String order = i % 2 == 0 ? "sort -z" : "sort -zr";
                readers.add(new ProcessBuilder("bash", "-c", "find '" + mnt + "' -type f -print0 | " + order
                        + " | xargs -0 sha256sum").redirectError(ProcessBuilder.Redirect.INHERIT).start());
            }
            for (Process p : readers) {
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(120, TimeUnit.SECONDS);
                assertEquals(0, p.exitValue());
                assertEquals(expected, sums(output, mnt));
            }
            assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
        }
    }
}
