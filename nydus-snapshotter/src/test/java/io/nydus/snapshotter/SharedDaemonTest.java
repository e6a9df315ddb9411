package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --daemon-mode shared}: one nydusd for every image, started with only a mountpoint and an API socket;
 * each image is mounted at {@code <root>/mnt/<snapshot id>} through {@code POST /api/v1/mount}. When the daemon
 * dies it is restarted and every image is mounted into it again; removing an image unmounts only that one.
 */
class SharedDaemonTest {
    @TempDir
    Path dir;

    @Test
    void oneDaemonServesEveryImage() throws Exception {
        try (TestBed bed = TestBed.start(dir, "--daemon-mode", "shared", "--nydusd",
                NydusImageEndToEndTest.nydusd(dir).toString(),
                "--nydusd-config", NydusImageEndToEndTest.template(dir).toString())) {
            try {
                RegistryUpload upload = new RegistryUpload(bed.registry.host(), null);
                StandInNydusImage.Pushed a = NydusImageEndToEndTest.pushImage(dir.resolve("a"), bed, "test/a", "image-a");
                StandInNydusImage.Pushed b = NydusImageEndToEndTest.pushImage(dir.resolve("b"), bed, "test/b", "image-b");
                RemoteSnapshotPull.pull(bed.containerd, upload, a.ref(), "nydus");
                RemoteSnapshotPull.pull(bed.containerd, upload, b.ref(), "nydus");
                assertEquals("image-a\n", bed.run(a.ref(), "a1", "cat /etc/served-by"));
                assertEquals("image-b\n", bed.run(b.ref(), "b1", "cat /etc/served-by"));

                Path daemonDir = NydusDaemonRecoveryTest.onlyDaemonDir(bed);
                assertEquals("shared", daemonDir.getFileName().toString());
                List<String> starts = StandInNydusd.starts(daemonDir);
                assertEquals(List.of("fuse --mountpoint " + bed.root.resolve("mnt") + " --apisock "
                        + daemonDir.resolve("api.sock") + " --log-level info"), starts);
                List<Path> configs;
                try (var s = Files.list(daemonDir)) {
                    configs = s.filter(p -> p.getFileName().toString().startsWith("standin-config-")).sorted().toList();
                }
                assertEquals(2, configs.size(), configs.toString());
                String repos = "";
                for (Path c : configs) {
                    repos += new ObjectMapper().readTree(c.toFile()).path("device").path("backend").path("config")
                            .path("repo").asText() + " ";
                }
                assertTrue(repos.contains("test/a ") && repos.contains("test/b "), repos);

                long pid = NydusDaemonRecoveryTest.standInPid(bed);
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (StandInNydusd.starts(daemonDir).size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals("image-a\n", bed.run(a.ref(), "a2", "cat /etc/served-by"));
                assertEquals("image-b\n", bed.run(b.ref(), "b2", "cat /etc/served-by"));

                bed.ctr("image", "rm", "--sync", a.ref());
                assertEquals(List.of(bed.root.resolve("mnt").resolve(mountedId(bed))), MountTable.under(bed.root));
                assertEquals("image-b\n", bed.run(b.ref(), "b3", "cat /etc/served-by"));
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    /** The snapshot id still mounted in the shared daemon. */
    private static String mountedId(TestBed bed) throws Exception {
        List<Path> mounted = MountTable.under(bed.root.resolve("mnt"));
        assertEquals(1, mounted.size(), mounted.toString());
        return mounted.get(0).getFileName().toString();
    }
}
