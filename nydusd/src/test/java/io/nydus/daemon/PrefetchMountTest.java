package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prefetch_all} with the local chunk cache: the daemon fetches the whole image in the background after
 * mounting, so that reading every file afterwards (page cache dropped) makes no backend request at all.
 */
class PrefetchMountTest {
    @TempDir
    Path dir;

    @Test
    void prefetchedImageIsReadWithoutTheBackend() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        ConcurrentReadTest.populate(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        var built = BuiltImageTest.build(src, out, "img", RafsVersion.V6, Compressor.ZSTD, Digester.BLAKE3);
        Map<String, String> expected = ConcurrentReadTest.sums(ImageChecks.run("bash", "-c", "find '" + src
                + "' -type f -print0 | sort -z | xargs -0 sha256sum"), src);
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\""
                + out.resolve("blobs") + "\"}},\"cache\":{\"type\":\"blobcache\",\"config\":{\"work_dir\":\""
                + dir.resolve("cache") + "\"}}},\"mode\":\"direct\",\"digest_validate\":true,"
                + "\"fs_prefetch\":{\"enable\":true,\"threads_count\":2,\"prefetch_all\":true}}");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", built.bootstrap().toString(), "-A", sock.toString()))) {
            d.awaitState(sock, "RUNNING");
            UnixHttp api = new UnixHttp(sock);
            // Wait until the backend has delivered at least the whole blob's chunk data and stays quiet.
            long blobBytes = Files.size(built.blobPath());
            long last = -1;
            long stableSince = System.nanoTime();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                long now = api.get(ApiServer.METRICS_BACKEND).json().get("read_amount_total").asLong();
                if (now != last) {
                    last = now;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince > 1_500_000_000L && now > blobBytes / 2) {
                    break;
                }
                Thread.sleep(100);
            }
            JsonNode before = api.get(ApiServer.METRICS_BACKEND).json();
            JsonNode cache = api.get(ApiServer.METRICS_BLOBCACHE).json();
            assertTrue(cache.has("store_path"), cache.toString());

            MountInfo.dropCaches();
            assertEquals(expected, ConcurrentReadTest.sums(ImageChecks.run("bash", "-c", "find '" + mnt
                    + "' -type f -print0 | sort -z | xargs -0 sha256sum"), mnt));
            JsonNode after = api.get(ApiServer.METRICS_BACKEND).json();
            assertEquals(before.get("read_count").asLong(), after.get("read_count").asLong(),
                    "no backend request after prefetch: " + before + " → " + after + " cache " + cache);
            assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
        }
    }
}
