package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshotter killed with SIGKILL while a container runs: the container keeps running and reading its rootfs,
 * and the restarted snapshotter knows every snapshot and serves new containers.
 */
class SnapshotterRestartTest {
    @TempDir
    Path dir;

    @Test
    void aCrashLosesNothing() throws Exception {
        try (TestBed bed = TestBed.start(dir)) {
            try {
                String ref = BusyboxImage.push(dir.resolve("image"), bed.registry.host(), "test/busybox");
                bed.ctr("image", "pull", "--plain-http", "--snapshotter", "nydus", ref);
                Path out = Files.createDirectories(dir.resolve("out"));
                bed.ctr("run", "-d", "--snapshotter", "nydus", "--mount",
                        "type=bind,src=" + out + ",dst=/out,options=rbind:rw", ref, "long",
                        "/bin/sh", "-c", "while true; do cat /etc/greeting >> /out/log; sleep 0.1; done");
                awaitLines(out.resolve("log"), 3);
                List<String> before = bed.snapshots();
                assertEquals(3, before.size(), before.toString());
                assertTrue(before.contains("long Active"), before.toString());

                bed.crashAndRestartSnapshotter();
                long lines = Files.readAllLines(out.resolve("log")).size();
                awaitLines(out.resolve("log"), lines + 5);
                assertTrue(Files.readAllLines(out.resolve("log")).stream().allMatch(l -> l.equals("hello")));

                assertEquals(before, bed.snapshots());
                assertEquals(BusyboxImage.EXPECTED, bed.run(ref, "after", BusyboxImage.SHOW));

                // The container's snapshot is removed through the restarted snapshotter when it goes away.
                bed.ctr("tasks", "kill", "-s", "SIGKILL", "long");
                awaitStopped(bed, "long");
                bed.ctr("tasks", "delete", "long");
                bed.ctr("containers", "delete", "long");
                assertEquals(2, bed.snapshots().size(), bed.snapshots().toString());
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    static void awaitLines(Path file, long count) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readAllLines(file).size() >= count) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(file + " did not reach " + count + " lines");
    }

    static void awaitStopped(TestBed bed, String task) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            String tasks = bed.ctr("tasks", "ls");
            if (tasks.lines().anyMatch(l -> l.startsWith(task + " ") && l.contains("STOPPED"))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("task " + task + " did not stop");
    }
}
