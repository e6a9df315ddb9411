package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --daemon-mode shared} with the real nydusd: one daemon for every image, started with only a mountpoint and an
 * API socket; each image is mounted into it through {@code POST /api/v1/mount?mountpoint=/<snapshot id>} and appears
 * at {@code <root>/mnt/<snapshot id>}. When the daemon dies it is restarted and every image is mounted into it again
 * ({@code recover_policy = "restart"}), or its successor takes the mount over with every image in it ("failover");
 * removing an image unmounts only that one.
 */
class SharedDaemonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "recover_policy {0}")
    @ValueSource(strings = {"restart", "failover"})
    void oneDaemonServesEveryImage(String recoverPolicy) throws Exception {
        Path config = dir.resolve("config.toml");
        Files.writeString(config, "[daemon]\nrecover_policy = \"" + recoverPolicy + "\"\n");
        try (TestBed bed = NydusImageEndToEndTest.bed(dir, "--daemon-mode", "shared", "--config", config.toString())) {
            try {
                NydusImage.Converted a = NydusImage.pushAndConvert(dir.resolve("a"), bed.registry, "test/a");
                NydusImage.Converted b = NydusImage.pushAndConvert(dir.resolve("b"), bed.registry, "test/b");
                bed.pull(a.ref());
                bed.pull(b.ref());
                assertEquals("test/a\n", bed.run(a.ref(), "a1", "cat /etc/served-by"));
                assertEquals("test/b\n", bed.run(b.ref(), "b1", "cat /etc/served-by"));

                List<Long> daemons = bed.nydusds();
                assertEquals(1, daemons.size(), daemons.toString());
                Path socket = bed.root.resolve("socket/shared/api.sock");
                String supervised = recoverPolicy.equals("failover")
                        ? " --supervisor " + bed.root.resolve("socket/shared/supervisor.sock") + " --id shared" : "";
                assertEquals("fuse --mountpoint " + bed.root.resolve("mnt") + " --apisock " + socket
                        + " --log-level info" + supervised, TestBed.nydusdArguments(daemons.get(0)));
                List<String> ids = mountedImages(socket);
                assertEquals(2, ids.size(), ids.toString());
                assertEquals(ids, entries(bed.root.resolve("mnt")));
                assertEquals(List.of(bed.root.resolve("mnt")), MountTable.under(bed.root), "one FUSE mount for all");
                // Each image's nydusd config names its own repository.
                List<String> repos = new ArrayList<>();
                for (String id : ids) {
                    repos.add(JSON.readTree(bed.root.resolve("config/shared/" + id.substring(1) + "/config.json")
                            .toFile()).path("device").path("backend").path("config").path("repo").asText());
                }
                repos.sort(null);
                assertEquals(List.of("test/a", "test/b"), repos);

                long pid = daemons.get(0);
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while ((bed.nydusds().isEmpty() || bed.nydusds().contains(pid)
                        || mountedImagesOrNone(socket).size() < 2) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertNotEquals(List.of(pid), bed.nydusds());
                assertEquals(ids, mountedImages(socket), "both images mounted again");
                if (recoverPolicy.equals("failover")) {
                    // The successor lists the images before the snapshotter has finished the takeover.
                    String log = bed.snapshotter().awaitLog("took over the mount");
                    assertTrue(log.contains("took over the mount"), log);
                }
                assertEquals("test/a\n", bed.run(a.ref(), "a2", "cat /etc/served-by"));
                assertEquals("test/b\n", bed.run(b.ref(), "b2", "cat /etc/served-by"));

                bed.ctr("image", "rm", "--sync", a.ref());
                List<String> left = mountedImages(socket);
                assertEquals(1, left.size(), left.toString());
                assertEquals(left, entries(bed.root.resolve("mnt")));
                assertEquals(BusyboxImage.EXPECTED, bed.run(b.ref(), "b3", BusyboxImage.SHOW));
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    /** The mountpoints nydusd reports in {@code backend_collection} of {@code GET /api/v1/daemon}, sorted. */
    private static List<String> mountedImages(Path socket) throws Exception {
        NydusdClient.Response r = new NydusdClient(socket, Duration.ofSeconds(10)).request("GET", "/api/v1/daemon",
                null);
        assertEquals(200, r.status(), r.body());
        JsonNode collection = JSON.readTree(r.body()).path("backend_collection");
        List<String> ids = new ArrayList<>();
        collection.fieldNames().forEachRemaining(ids::add);
        ids.sort(null);
        return ids;
    }

    private static List<String> mountedImagesOrNone(Path socket) {
        try {
            return mountedImages(socket);
        } catch (Exception | AssertionError e) {
            return List.of();
        }
    }

    /** The directory's entries as {@code /<name>}, sorted: what the shared daemon's pseudo root lists. */
    private static List<String> entries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> "/" + p.getFileName()).sorted().toList();
        }
    }
}
