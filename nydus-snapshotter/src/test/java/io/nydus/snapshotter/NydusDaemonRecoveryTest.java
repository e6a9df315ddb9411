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
 * Recovery with the real nydusd (dedicated mode). The snapshotter killed with SIGKILL while a container reads its
 * files from the nydus mount: the container keeps reading, and the restarted snapshotter lists the same snapshots,
 * adopts the running nydusd (found through its record, pid and API socket) instead of starting another, and starts
 * new containers. A nydusd that dies is started again with its image mounted afresh
 * ({@code recover_policy = "restart"}), so new containers work; containers that were reading through the dead mount
 * get ENOTCONN. With {@code recover_policy = "failover"} a successor takes the same mount over through the
 * snapshotter's supervisor socket, and containers reading through it never see an error.
 */
class NydusDaemonRecoveryTest {
    @TempDir
    Path dir;

    @Test
    void aSnapshotterCrashLosesNothingAndADeadNydusdIsRestarted() throws Exception {
        try (TestBed bed = NydusImageEndToEndTest.bed(dir)) {
            try {
                NydusImage.Converted image = NydusImage.pushAndConvert(dir.resolve("image"), bed.registry,
                        "test/nydus");
                Path out = startReader(bed, image, "long");
                List<Long> daemons = bed.nydusds();
                assertEquals(1, daemons.size(), daemons.toString());
                long pid = daemons.get(0);
                List<String> before = bed.snapshots();
                assertEquals(4, before.size(), before.toString());
                assertTrue(before.contains("long Active"), before.toString());

                bed.crashAndRestartSnapshotter();
                long lines = Files.readAllLines(out.resolve("log")).size();
                SnapshotterRestartTest.awaitLines(out.resolve("log"), lines + 10);
                assertTrue(Files.readAllLines(out.resolve("log")).stream()
                        .allMatch(l -> l.equals("test/nydus") || l.equals("keep")));
                assertEquals(before, bed.snapshots());
                assertEquals(BusyboxImage.EXPECTED, bed.run(image.ref(), "after-crash", BusyboxImage.SHOW));
                assertEquals(List.of(pid), bed.nydusds(), "the running nydusd was adopted");
                assertTrue(bed.snapshotter().log().contains("adopted nydusd"), bed.snapshotter().log());

                assertNotEquals(pid, killAndAwaitSuccessor(bed), "the dead nydusd was started again");
                assertEquals(BusyboxImage.EXPECTED, bed.run(image.ref(), "after-death", BusyboxImage.SHOW));
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    @Test
    void aKilledNydusdIsTakenOverWhileAContainerKeepsReading() throws Exception {
        Path config = dir.resolve("config.toml");
        Files.writeString(config, "[daemon]\nrecover_policy = \"failover\"\n");
        try (TestBed bed = NydusImageEndToEndTest.bed(dir, "--config", config.toString())) {
            try {
                NydusImage.Converted image = NydusImage.pushAndConvert(dir.resolve("image"), bed.registry,
                        "test/nydus");
                Path out = startReader(bed, image, "reader");

                long pid = killAndAwaitSuccessor(bed);
                long lines = Files.readAllLines(out.resolve("log")).size();
                SnapshotterRestartTest.awaitLines(out.resolve("log"), lines + 10);
                String snapshotterLog = bed.snapshotter().awaitLog("took over the mount");
                assertTrue(snapshotterLog.contains("took over the mount"), snapshotterLog);

                // A restarted snapshotter supervises the daemons it adopts: the next death is taken over too.
                bed.crashAndRestartSnapshotter();
                assertEquals(List.of(pid), bed.nydusds(), "the successor was adopted");
                killAndAwaitSuccessor(bed);
                lines = Files.readAllLines(out.resolve("log")).size();
                SnapshotterRestartTest.awaitLines(out.resolve("log"), lines + 10);

                List<String> log = Files.readAllLines(out.resolve("log"));
                assertTrue(log.stream().allMatch(l -> l.equals("test/nydus") || l.equals("keep")),
                        "the container read through the takeovers without an error: " + log.stream()
                                .filter(l -> !l.equals("test/nydus") && !l.equals("keep")).toList());
                assertEquals(BusyboxImage.EXPECTED, bed.run(image.ref(), "after-takeover", BusyboxImage.SHOW));
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    /**
     * Pulls the image and runs container {@code name} reading two of its files in a loop into {@code out/log};
     * errors go to the log too, so a failed read leaves a line that is not one of the two files. Returns out.
     */
    private Path startReader(TestBed bed, NydusImage.Converted image, String name) throws Exception {
        bed.pull(image.ref());
        Path out = Files.createDirectories(dir.resolve("out"));
        bed.ctr("run", "-d", "--snapshotter", "nydus", "--mount",
                "type=bind,src=" + out + ",dst=/out,options=rbind:rw", image.ref(), name,
                "/bin/sh", "-c", "while true; do cat /etc/served-by /data/keep >> /out/log 2>&1; sleep 0.1; done");
        SnapshotterRestartTest.awaitLines(out.resolve("log"), 6);
        return out;
    }

    /**
     * Kills the one nydusd with SIGKILL, drops the page cache (so the container's next reads need the daemon),
     * and waits for its successor; returns the successor's pid.
     */
    private static long killAndAwaitSuccessor(TestBed bed) throws Exception {
        List<Long> daemons = bed.nydusds();
        assertEquals(1, daemons.size(), daemons.toString());
        long pid = daemons.get(0);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        long deadline = System.nanoTime() + 60_000_000_000L;
        List<Long> now = bed.nydusds();
        while ((now.isEmpty() || now.contains(pid)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            now = bed.nydusds(); // one listing per round: the old daemon may vanish between two
        }
        assertEquals(1, now.size(), "a successor: " + now);
        return now.get(0);
    }
}
