package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ordinary OCI image pulled with {@code ctr image pull --snapshotter nydus} runs as with overlayfs; pulled with
 * {@code containerd-nydus-grpc pull} it is fetched and unpacked whole (containerd applies its whiteouts) and runs
 * the same.
 */
class OciImageTest {
    @TempDir
    Path dir;

    @Test
    void pullRunAndRemoveAnOrdinaryImage() throws Exception {
        try (TestBed bed = TestBed.start(dir)) {
            try {
                String ref = BusyboxImage.push(dir.resolve("image"), bed.registry.host(), "test/busybox");
                bed.ctr("image", "pull", "--plain-http", "--snapshotter", "nydus", ref);
                List<String> layers = bed.snapshots();
                assertEquals(2, layers.size(), layers.toString());
                assertTrue(layers.stream().allMatch(l -> l.endsWith("Committed")), layers.toString());

                assertEquals(BusyboxImage.EXPECTED, bed.run(ref, "c1", BusyboxImage.SHOW));
                // The writable layer works and belongs to the container alone.
                assertEquals("written\n", bed.run(ref, "c2", "echo written > /etc/greeting; cat /etc/greeting"));
                assertEquals("hello\n", bed.run(ref, "c3", "cat /etc/greeting"));
                // A view (read-only mount of the image) through ctr.
                Path mnt = Files.createDirectories(dir.resolve("view"));
                bed.ctr("image", "mount", "--snapshotter", "nydus", "--rw=false", ref, mnt.toString());
                try {
                    assertEquals("hello\n", Files.readString(mnt.resolve("etc/greeting")));
                    assertFalse(Files.exists(mnt.resolve("etc/base.txt")));
                } finally {
                    bed.ctr("image", "unmount", mnt.toString());
                }

                // Removing the image lets containerd's garbage collector remove the layers here too.
                bed.ctr("image", "rm", "--sync", ref);
                assertEquals(List.of(), bed.snapshots());
                try (Stream<Path> left = Files.list(bed.root.resolve("snapshots"))) {
                    assertEquals(List.of(), left.toList());
                }

                int mark = RegistryLog.mark(bed.registry);
                String out = bed.pull(ref);
                assertTrue(out.contains(": 2 layer(s) unpacked, 0 remote, 0 already present"), out);
                List<RegistryLog.Request> blobs = RegistryLog.since(bed.registry, mark).stream()
                        .filter(r -> r.path().contains("/blobs/")).toList();
                assertEquals(3, blobs.size(), "the config and both layers, whole: " + blobs);
                assertEquals(BusyboxImage.EXPECTED, bed.run(ref, "c4", BusyboxImage.SHOW));
                assertEquals(List.of(), bed.nydusds());
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }
}
