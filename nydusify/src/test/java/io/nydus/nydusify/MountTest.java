package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.testdata.Project;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nydusify mount} runs bin/nydusd on a converted image (registry, OCI layout, OCI archive): the mounted tree
 * equals what umoci unpacks.
 */
class MountTest {
    @TempDir
    Path work;

    @Test
    void mountsFromARegistryALayoutAndAnArchive() throws IOException, InterruptedException {
        Path images = TestImages.layout();
        Path expected = TestImages.umociUnpack(TestImages.ref(images, "busybox"), work);
        try (RegistryServer reg = RegistryServer.start(work.resolve("reg"))) {
            TestImages.push(images, "busybox", reg, "app:v1");
            Cli c = Cli.run("convert", "--source", reg.host() + "/app:v1", "--target", reg.host() + "/app:nydus",
                    "--plain-http");
            assertEquals(0, c.code(), c.toString());
            mountAndCompare(List.of("--target", reg.host() + "/app:nydus", "--plain-http"), expected);
        }
        Path layout = work.resolve("layout");
        Cli c = Cli.run("convert", "--source", TestImages.ref(images, "busybox"), "--target", "oci:" + layout + ":n");
        assertEquals(0, c.code(), c.toString());
        mountAndCompare(List.of("--target", "oci:" + layout + ":n"), expected);
        Path archive = work.resolve("nydus.tar");
        c = Cli.run("copy", "--source", "oci:" + layout + ":n", "--target", "oci-archive:" + archive + ":n");
        assertEquals(0, c.code(), c.toString());
        mountAndCompare(List.of("--target", "oci-archive:" + archive + ":n"), expected);
    }

    private void mountAndCompare(List<String> target, Path expected) throws IOException, InterruptedException {
        Path mnt = Files.createTempDirectory(work, "mnt-");
        Path log = work.resolve("mount-" + mnt.getFileName() + ".log");
        List<String> cmd = new java.util.ArrayList<>(List.of(Project.root().resolve("bin/nydusify").toString(), "mount",
                "--mountpoint", mnt.toString(), "--work-dir", Files.createTempDirectory(work, "mwork-").toString()));
        cmd.addAll(target);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("NYDUSIFY_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (!NydusdMount.isMounted(mnt)) {
                assertTrue(p.isAlive(), () -> "nydusify mount exited: " + read(log));
                assertTrue(Instant.now().isBefore(deadline), () -> "not mounted after 60 s: " + read(log));
                Thread.sleep(100);
            }
            TestImages.assertSameTree(expected, mnt);
        } finally {
            p.destroy(); // SIGTERM: passed on to nydusd, which unmounts
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), () -> "nydusify mount did not stop: " + read(log));
        }
        assertFalse(NydusdMount.isMounted(mnt), "still mounted after SIGTERM");
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
