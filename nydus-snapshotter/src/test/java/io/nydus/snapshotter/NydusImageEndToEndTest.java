package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nydus image end to end with nothing stood in: the busybox image pushed to a real registry and converted there by
 * {@code bin/nydusify}, pulled with {@code bin/containerd-nydus-grpc pull}, run by containerd 1.6 + runc over the
 * mountpoint of the real {@code bin/nydusd} the snapshotter starts (dedicated mode). The registry's access log shows
 * what was fetched: the pull takes the bootstrap layer and no data blob; file data is read by range, lazily, when a
 * container reads the files.
 */
class NydusImageEndToEndTest {
    static final String TEMPLATE = """
            {"device": {"backend": {"type": "registry", "config": {"scheme": "http", "timeout": 5,
              "connect_timeout": 5, "retry_limit": 2}}, "cache": {"type": "blobcache"}},
             "mode": "direct", "digest_validate": false, "enable_xattr": true,
             "fs_prefetch": {"enable": false}}
            """;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path template(Path dir) throws Exception {
        Path t = dir.resolve("nydusd-config.json");
        Files.writeString(t, TEMPLATE);
        return t;
    }

    /** A bed whose snapshotter runs the real nydusd with {@link #TEMPLATE}; {@code flags} go after those. */
    static TestBed bed(Path dir, String... flags) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("--nydusd", Launchers.nydusd().toString(),
                "--nydusd-config", template(dir).toString()));
        all.addAll(List.of(flags));
        return TestBed.start(dir, all.toArray(String[]::new));
    }

    @Test
    void pullFetchesOnlyTheBootstrapAndNydusdReadsFileDataWhenFilesAreRead() throws Exception {
        try (TestBed bed = bed(dir)) {
            try {
                NydusImage.Converted image = NydusImage.pushAndConvert(dir.resolve("image"), bed.registry,
                        "test/busybox");
                String busyboxBlob = image.dataBlobs().get(0);
                String upperBlob = image.dataBlobs().get(1);

                int converted = RegistryLog.mark(bed.registry);
                int mark = converted;
                String out = bed.pull(image.ref());
                List<String> lines = out.strip().lines().toList();
                assertEquals(5, lines.size(), out);
                assertTrue(lines.get(1).startsWith("layer 1/3 " + busyboxBlob) && lines.get(1).endsWith(
                        ": remote, not fetched"), out);
                assertTrue(lines.get(2).startsWith("layer 2/3 " + upperBlob) && lines.get(2).endsWith(
                        ": remote, not fetched"), out);
                assertTrue(lines.get(3).startsWith("layer 3/3 " + image.bootstrapLayer()) && lines.get(3).endsWith(
                        ": unpacked"), out);
                List<RegistryLog.Request> pull = RegistryLog.since(bed.registry, mark);
                assertEquals(List.of(), RegistryLog.of(pull, busyboxBlob), "the pull touched a data blob");
                assertEquals(List.of(), RegistryLog.of(pull, upperBlob), "the pull touched a data blob");
                assertEquals(1, RegistryLog.of(pull, image.bootstrapLayer()).size(), pull.toString());
                assertEquals(3, bed.snapshots().size(), bed.snapshots().toString());
                assertEquals(List.of(), bed.nydusds(), "no nydusd before a container needs one");

                // The shell is busybox, from the first data blob; the second blob's files are not read yet.
                mark = RegistryLog.mark(bed.registry);
                assertEquals("started\n", bed.run(image.ref(), "c1", "echo started"));
                List<RegistryLog.Request> first = RegistryLog.since(bed.registry, mark);
                assertFalse(RegistryLog.of(first, busyboxBlob).isEmpty(), first.toString());
                assertEquals(List.of(), RegistryLog.of(first, upperBlob), "read before any file of it was");

                // Whiteouts applied: /etc/base.txt deleted, /data/sub replaced by the opaque directory.
                mark = RegistryLog.mark(bed.registry);
                assertEquals(BusyboxImage.EXPECTED, bed.run(image.ref(), "c2", BusyboxImage.SHOW));
                List<RegistryLog.Request> second = RegistryLog.since(bed.registry, mark);
                assertFalse(RegistryLog.of(second, upperBlob).isEmpty(), second.toString());
                for (String blob : image.dataBlobs()) {
                    for (RegistryLog.Request r : RegistryLog.of(RegistryLog.since(bed.registry, converted), blob)) {
                        assertEquals(206, r.status(), "data is read by range, never whole: " + r);
                        assertTrue(r.agent().startsWith("nydusd/"), r.toString());
                    }
                }

                // Writes go to the container's upper layer, never into the image.
                assertEquals("changed\n", bed.run(image.ref(), "c3",
                        "echo changed > /etc/greeting; cat /etc/greeting"));
                assertEquals("hello\n", bed.run(image.ref(), "c4", "cat /etc/greeting"));

                // One nydusd for the image, started as upstream's snapshotter starts it, and its rendered config.
                List<Long> daemons = bed.nydusds();
                assertEquals(1, daemons.size(), daemons.toString());
                String id = onlyDaemonDir(bed).getFileName().toString().substring("nydusd-".length());
                Path r = bed.root;
                assertEquals("fuse --mountpoint " + r.resolve("snapshots/" + id + "/mnt")
                        + " --config " + r.resolve("config/nydusd-" + id + "/config.json")
                        + " --bootstrap " + r.resolve("snapshots/" + id + "/fs/image/image.boot")
                        + " --apisock " + r.resolve("socket/nydusd-" + id + "/api.sock")
                        + " --log-level info", TestBed.nydusdArguments(daemons.get(0)));
                JsonNode config = JSON.readTree(r.resolve("config/nydusd-" + id + "/config.json").toFile());
                JsonNode backend = config.path("device").path("backend").path("config");
                assertEquals(bed.registry.host(), backend.path("host").asText());
                assertEquals("test/busybox", backend.path("repo").asText());
                assertEquals("http", backend.path("scheme").asText());
                assertEquals(r.resolve("cache").toString(),
                        config.path("device").path("cache").path("config").path("work_dir").asText());
                assertEquals("/" + id, config.path("device").path("id").asText());
                assertEquals(List.of(r.resolve("snapshots/" + id + "/mnt")), MountTable.under(r));

                // Pulling again fetches nothing: the snapshots are there.
                mark = RegistryLog.mark(bed.registry);
                assertTrue(bed.pull(image.ref()).contains(": 0 layer(s) unpacked, 0 remote, 3 already present"));
                assertEquals(List.of(), RegistryLog.of(RegistryLog.since(bed.registry, mark), image.bootstrapLayer()));

                // Removing the image stops its nydusd and unmounts it.
                bed.ctr("image", "rm", "--sync", image.ref());
                assertEquals(List.of(), bed.snapshots());
                assertEquals(List.of(), MountTable.under(bed.root));
                assertEquals(List.of(), bed.nydusds());
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    /**
     * Plain {@code ctr image pull --snapshotter nydus} of containerd 1.6 cannot pull a nydus image (it fetches every
     * blob, passes no labels, and its diff service has no processor for nydus blobs): the failure is containerd's own
     * clear message. {@code containerd-nydus-grpc pull} afterwards pulls it (from the blobs ctr left in the content
     * store) and it runs; pull errors are one line and exit 1.
     */
    @Test
    void ctrImagePullCannotPullANydusImageAndThePullSubcommandCan() throws Exception {
        try (TestBed bed = bed(dir)) {
            try {
                NydusImage.Converted image = NydusImage.pushAndConvert(dir.resolve("image"), bed.registry,
                        "test/nydus");
                Cmd.Result ctr = bed.containerd.ctrResult("image", "pull", "--plain-http", "--snapshotter", "nydus",
                        image.ref());
                assertNotEquals(0, ctr.exit(), ctr.out());
                assertTrue(ctr.out().contains("failed to get stream processor for " + NydusImage.BLOB_MEDIA_TYPE
                        + ": no processor for media-type"), ctr.out());

                int mark = RegistryLog.mark(bed.registry);
                assertTrue(bed.pull(image.ref()).contains("1 layer(s) unpacked, 2 remote"));
                assertEquals(List.of(), RegistryLog.of(RegistryLog.since(bed.registry, mark), image.bootstrapLayer()),
                        "the bootstrap layer came from containerd's content store");
                assertEquals("test/nydus\n", bed.run(image.ref(), "c1", "cat /etc/served-by"));

                Cmd.Result missing = bed.pullResult(Map.of(), bed.registry.host() + "/test/nydus:absent");
                assertEquals(1, missing.exit(), missing.out());
                assertEquals(1, missing.out().strip().lines().count(), missing.out());
                assertTrue(missing.out().startsWith("containerd-nydus-grpc: pull " + bed.registry.host()
                        + "/test/nydus:absent: "), missing.out());
                assertTrue(missing.out().contains("404"), missing.out());
                Cmd.Result platform = bed.pullResult(Map.of(), image.ref(), "--platform", "linux/arm64");
                assertEquals(1, platform.exit(), platform.out());
                assertTrue(platform.out().strip().endsWith("is an image for linux/amd64, not linux/arm64 (--platform)"),
                        platform.out());
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
}
