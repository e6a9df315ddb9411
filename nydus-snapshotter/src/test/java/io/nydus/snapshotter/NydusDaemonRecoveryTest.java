package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery of nydus mounts: a restarted snapshotter adopts the running nydusd (found through its record, pid
 * and API socket) instead of starting another, and a nydusd that dies is restarted with its mount back
 * ({@code recover_policy = "restart"}), while a container started earlier keeps reading.
 */
class NydusDaemonRecoveryTest {
    @TempDir
    Path dir;

    @Test
    void daemonsAreAdoptedAfterASnapshotterCrashAndRestartedWhenTheyDie() throws Exception {
        try (TestBed bed = TestBed.start(dir, "--nydusd", NydusImageEndToEndTest.nydusd(dir).toString(),
                "--nydusd-config", NydusImageEndToEndTest.template(dir).toString())) {
            try {
                StandInNydusImage.Pushed image = NydusImageEndToEndTest.pushImage(dir.resolve("image"), bed,
                        "test/nydus", "nydus");
                RemoteSnapshotPull.pull(bed.containerd, new RegistryUpload(bed.registry.host(), null), image.ref(),
                        "nydus");
                Path out = Files.createDirectories(dir.resolve("out"));
                bed.ctr("run", "-d", "--snapshotter", "nydus", "--mount",
                        "type=bind,src=" + out + ",dst=/out,options=rbind:rw", image.ref(), "long",
                        "/bin/sh", "-c", "while true; do cat /etc/served-by >> /out/log; sleep 0.1; done");
                SnapshotterRestartTest.awaitLines(out.resolve("log"), 3);
                Path daemonDir = onlyDaemonDir(bed);
                long pid = standInPid(bed);
                List<String> before = bed.snapshots();

                bed.crashAndRestartSnapshotter();
                assertEquals(before, bed.snapshots());
                assertEquals("nydus\n", bed.run(image.ref(), "after-crash", "cat /etc/served-by"));
                assertEquals(1, StandInNydusd.starts(daemonDir).size(), "the running nydusd was adopted");
                assertEquals(pid, standInPid(bed));
                assertTrue(bed.snapshotter().log().contains("adopted nydusd"), bed.snapshotter().log());

                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (StandInNydusd.starts(daemonDir).size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(2, StandInNydusd.starts(daemonDir).size(), "the dead nydusd was started again");
                assertEquals("nydus\n", bed.run(image.ref(), "after-death", "cat /etc/served-by"));
                assertNotEquals(pid, standInPid(bed));

                long lines = Files.readAllLines(out.resolve("log")).size();
                SnapshotterRestartTest.awaitLines(out.resolve("log"), lines + 5);
                assertTrue(Files.readAllLines(out.resolve("log")).stream().allMatch(l -> l.equals("nydus")));
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    static Path onlyDaemonDir(TestBed bed) throws Exception {
        try (var s = Files.list(bed.root.resolve("socket"))) {
            List<Path> dirs = s.toList();
            assertEquals(1, dirs.size(), dirs.toString());
            return dirs.get(0);
        }
    }

    /** The pid of the one running stand-in nydusd of this test bed. */
    static long standInPid(TestBed bed) {
        List<Long> pids = Leftovers.processesUnder(bed.root).stream()
                .filter(p -> ProcessHandle.of(p).flatMap(h -> h.info().commandLine())
                        .map(c -> c.contains("StandInNydusd")).orElse(false)).toList();
        assertEquals(1, pids.size(), pids.toString());
        return pids.get(0);
    }
}
