package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nydus image through containerd and this snapshotter in dedicated mode: the data layers are committed as
 * remote snapshots and never downloaded, the bootstrap layer is unpacked, and {@code ctr run} gets an overlay
 * over the mountpoint of the nydusd started for the image.
 *
 * <p>Two seams make this the real end-to-end test once nydusd and nydusify land: {@link #nydusd} (today the
 * {@link StandInNydusd} launcher; then {@code Project.root().resolve("bin/nydusd")}) and {@link #pushImage} (today
 * {@link StandInNydusImage}; then {@code nydusify convert --source <BusyboxImage ref> --target …} from the
 * OCI image {@link BusyboxImage#push} builds, with {@code --plain-http}). Everything else already is the real
 * thing: containerd 1.6, runc, the registry, the CRI-style pull of {@link RemoteSnapshotPull}.
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

    static Path nydusd(Path dir) throws Exception {
        return StandInNydusd.launcher(dir.resolve("bin"));
    }

    /** Files of the test image: busybox plus a marker that says who serves them. */
    static Path rootfs(Path dir, String marker) throws Exception {
        Path rootfs = BusyboxImage.rootfs(dir);
        Files.writeString(rootfs.resolve("etc/served-by"), marker + "\n");
        return rootfs;
    }

    static StandInNydusImage.Pushed pushImage(Path dir, TestBed bed, String repo, String marker) throws Exception {
        return StandInNydusImage.push(dir, rootfs(dir, marker), new RegistryUpload(bed.registry.host(), null),
                bed.registry.host(), repo, "v1");
    }

    static Path template(Path dir) throws Exception {
        Path t = dir.resolve("nydusd-config.json");
        Files.writeString(t, TEMPLATE);
        return t;
    }

    @Test
    void aNydusImageRunsFromTheDaemonsMountpoint() throws Exception {
        try (TestBed bed = TestBed.start(dir, "--nydusd", nydusd(dir).toString(),
                "--nydusd-config", template(dir).toString())) {
            try {
                StandInNydusImage.Pushed image = pushImage(dir.resolve("image"), bed, "test/nydus", "nydus");
                RemoteSnapshotPull.Result pull = RemoteSnapshotPull.pull(bed.containerd,
                        new RegistryUpload(bed.registry.host(), null), image.ref(), "nydus");
                assertEquals(List.of(true, true, false), pull.remote(), "data layers remote, bootstrap unpacked");
                List<String> layers = bed.snapshots();
                assertEquals(3, layers.size(), layers.toString());

                assertEquals("nydus\nsh\n", bed.run(image.ref(), "c1", "cat /etc/served-by; ls /bin/sh | cut -c6-"));
                // Writes go to the container's upper layer, never into the image.
                assertEquals("changed\n", bed.run(image.ref(), "c2",
                        "echo changed > /etc/served-by; cat /etc/served-by"));
                assertEquals("nydus\n", bed.run(image.ref(), "c3", "cat /etc/served-by"));

                String registryLog = Files.readString(bed.registry.log());
                for (String blob : image.dataBlobs()) {
                    assertFalse(registryLog.contains("/blobs/" + blob), "data blob " + blob + " was downloaded");
                }
                assertTrue(registryLog.contains("/blobs/" + image.bootstrapLayer()));

                // One nydusd for the image, started as upstream's snapshotter starts it.
                Path sockets = bed.root.resolve("socket");
                List<Path> daemons;
                try (var s = Files.list(sockets)) {
                    daemons = s.toList();
                }
                assertEquals(1, daemons.size(), daemons.toString());
                String id = daemons.get(0).getFileName().toString().substring("nydusd-".length());
                List<String> starts = StandInNydusd.starts(daemons.get(0));
                assertEquals(1, starts.size(), starts.toString());
                Path r = bed.root;
                assertEquals("fuse --mountpoint " + r.resolve("snapshots/" + id + "/mnt")
                        + " --config " + r.resolve("config/nydusd-" + id + "/config.json")
                        + " --bootstrap " + r.resolve("snapshots/" + id + "/fs/image/image.boot")
                        + " --apisock " + r.resolve("socket/nydusd-" + id + "/api.sock")
                        + " --log-level info", starts.get(0));

                JsonNode config = JSON.readTree(daemons.get(0).resolve("standin-config.json").toFile());
                JsonNode backend = config.path("device").path("backend").path("config");
                assertEquals(bed.registry.host(), backend.path("host").asText());
                assertEquals("test/nydus", backend.path("repo").asText());
                assertEquals("http", backend.path("scheme").asText());
                assertEquals(r.resolve("cache").toString(),
                        config.path("device").path("cache").path("config").path("work_dir").asText());
                assertEquals("/" + id, config.path("device").path("id").asText());

                // Removing the image stops its nydusd and unmounts it.
                bed.ctr("image", "rm", "--sync", image.ref());
                assertEquals(List.of(), bed.snapshots());
                assertEquals(List.of(), MountTable.under(bed.root));
                assertEquals(List.of(), Leftovers.processesUnder(bed.root).stream()
                        .filter(p -> ProcessHandle.of(p).flatMap(h -> h.info().commandLine())
                                .map(c -> c.contains("StandInNydusd")).orElse(false)).toList());
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }
}
