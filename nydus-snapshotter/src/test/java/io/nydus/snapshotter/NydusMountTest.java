package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nydus.snapshotter.api.types.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nydus side of Prepare, View and Mounts through the gRPC service, without containerd but with the real nydusd
 * serving a real RAFS image (made by {@code bin/nydus-image}, its blob read from a localfs backend): the mounts
 * returned over a nydusd mountpoint, where the bootstrap is looked for, recovery, and failures that leave nothing
 * behind.
 */
class NydusMountTest {
    /** A bootstrap and its blob directory, made once for the class: files {@code etc/marker} = "from nydus". */
    @TempDir
    static Path image;
    private static String localfs;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildImage() throws Exception {
        Path files = Files.createDirectories(image.resolve("files/etc"));
        Files.writeString(files.resolve("marker"), "from nydus\n");
        Path blobs = Files.createDirectories(image.resolve("blobs"));
        Cmd.run(Launchers.nydusImage().toString(), "create", "-l", "warn", "-B", image.resolve("image.boot").toString(),
                "-D", blobs.toString(), files.getParent().toString());
        localfs = "{\"device\": {\"backend\": {\"type\": \"localfs\", \"config\": {\"dir\": \"" + blobs
                + "\"}}, \"cache\": {\"type\": \"blobcache\"}}}";
    }

    private static String nydusd() throws IOException {
        return Launchers.nydusd().toString();
    }

    private Path root;
    private Snapshotter snapshotter;
    private NydusFilesystem nydus;
    private UnixGrpcServer server;
    private SnapshotsClient client;

    private void open(String nydusd, String template) throws IOException {
        open(nydusd, template, SnapshotterConfig.RecoverPolicy.RESTART);
    }

    private void open(String nydusd, String template, SnapshotterConfig.RecoverPolicy policy) throws IOException {
        open(nydusd, template, policy, Duration.ofSeconds(30));
    }

    private void open(String nydusd, String template, SnapshotterConfig.RecoverPolicy policy, Duration startTimeout)
            throws IOException {
        root = dir.resolve("root");
        RootLayout layout = new RootLayout(root);
        SnapshotStore store = SnapshotStore.open(root);
        nydus = new NydusFilesystem(new NydusFilesystem.Settings(nydusd, SnapshotterConfig.DaemonMode.DEDICATED,
                policy, NydusdConfigTemplate.parse(template, "t"),
                root.resolve("cache"), new RegistryCredentials(Map.of(), dir.resolve("none.json")), "info", 0,
                startTimeout, Duration.ofMillis(200)), layout, store);
        snapshotter = new Snapshotter(store, layout, new OverlayMounts(layout, false, false), nydus);
        server = UnixGrpcServer.start(dir.resolve("s.sock"), new SnapshotsService(snapshotter).definition());
        client = SnapshotsClient.direct(dir.resolve("s.sock"));
    }

    @AfterEach
    void cleanUp() {
        close();
        Leftovers.clean(dir);
    }

    private void close() {
        if (client != null) {
            client.close();
            server.close();
            snapshotter.close();
        }
    }

    /** Pulls a data layer (remote) and a bootstrap layer holding the class's bootstrap at {@code bootPath}. */
    private Path pullImage(String bootPath, Map<String, String> extraLabels) throws Exception {
        Map<String, String> data = Map.of("containerd.io/snapshot.ref", "sha256:d",
                LayerLabels.NYDUS_DATA_LAYER, "true");
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.prepare("k1", "", data));
        Map<String, String> meta = new java.util.HashMap<>(Map.of("containerd.io/snapshot.ref", "sha256:m",
                LayerLabels.NYDUS_META_LAYER, "true"));
        meta.putAll(extraLabels);
        List<Mount> m = client.prepare("k2", "sha256:d", meta);
        Path upper = Path.of(m.get(0).getOptionsList().stream().filter(o -> o.startsWith("upperdir="))
                .findFirst().orElseThrow().substring(9));
        if (bootPath != null) {
            Files.createDirectories(upper.resolve(bootPath).getParent());
            Files.copy(image.resolve("image.boot"), upper.resolve(bootPath));
        }
        client.commit("sha256:m", "k2", meta);
        return upper.getParent();
    }

    @Test
    void rootfsAndViewOverlayTheDaemonsMountpoint() throws Exception {
        open(nydusd(), localfs);
        Path metaDir = pullImage("image/image.boot", Map.of());
        Path mnt = metaDir.resolve("mnt");

        List<Mount> rootfs = client.prepare("container", "sha256:m", Map.of());
        assertEquals("overlay", rootfs.get(0).getType());
        assertEquals("overlay", rootfs.get(0).getSource());
        List<String> o = rootfs.get(0).getOptionsList();
        assertEquals(3, o.size(), o.toString());
        assertTrue(o.get(0).startsWith("workdir=") && o.get(1).startsWith("upperdir="), o.toString());
        assertEquals("lowerdir=" + mnt, o.get(2));
        assertEquals("from nydus\n", Files.readString(mnt.resolve("etc/marker")));
        assertEquals(rootfs, client.mounts("container"));

        List<Mount> view = client.view("view", "sha256:m", Map.of());
        String lower = view.get(0).getOptionsList().get(0);
        assertTrue(lower.startsWith("lowerdir=" + mnt + ":" + root.resolve("snapshots")), lower);
        assertEquals(1, nydus.records().size(), "one daemon per image");

        // The bootstrap layer cannot go while containers use it; once they are gone its daemon stops.
        assertCode(Status.Code.FAILED_PRECONDITION, () -> client.remove("sha256:m"));
        client.remove("container");
        client.remove("view");
        client.remove("sha256:m");
        assertEquals(List.of(), nydus.records());
        assertEquals(List.of(), MountTable.under(root));
    }

    @Test
    void theLegacyBootstrapLocationIsFound() throws Exception {
        open(nydusd(), localfs);
        Path metaDir = pullImage("image.boot", Map.of());
        client.prepare("container", "sha256:m", Map.of());
        assertEquals("from nydus\n", Files.readString(metaDir.resolve("mnt/etc/marker")));
    }

    @Test
    void aDaemonThatCannotStartFailsThePrepareAndLeavesNothing() throws Exception {
        open("/bin/false", localfs);
        pullImage("image/image.boot", Map.of());
        StatusRuntimeException e = assertCode(Status.Code.UNAVAILABLE,
                () -> client.prepare("container", "sha256:m", Map.of()));
        assertTrue(e.getMessage().contains("exited before reaching RUNNING"), e.getMessage());
        assertCode(Status.Code.NOT_FOUND, () -> client.stat("container"));
        assertEquals(List.of(), nydus.records());
        assertEquals(2, client.list().size());
    }

    /** A daemon that hangs before answering its API (something the real one cannot be made to do) is given up on. */
    @Test
    void aDaemonThatNeverReachesRunningIsStoppedAndLeavesNothing() throws Exception {
        Path hanging = dir.resolve("hanging-nydusd");
        Files.writeString(hanging, "#!/bin/sh\necho $$ > " + dir.resolve("hanging.pid") + "\nexec sleep 600\n");
        hanging.toFile().setExecutable(true);
        open(hanging.toString(), localfs, SnapshotterConfig.RecoverPolicy.RESTART, Duration.ofSeconds(2));
        pullImage("image/image.boot", Map.of());
        StatusRuntimeException e = assertCode(Status.Code.UNAVAILABLE,
                () -> client.prepare("container", "sha256:m", Map.of()));
        assertTrue(e.getMessage().contains("did not reach RUNNING within 2 s"), e.getMessage());
        assertCode(Status.Code.NOT_FOUND, () -> client.stat("container"));
        assertEquals(List.of(), nydus.records());
        long pid = Long.parseLong(Files.readString(dir.resolve("hanging.pid")).strip());
        assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "the hanging daemon was stopped");
    }

    @Test
    void missingBootstrapOrImageReferenceIsAFailedPrecondition() throws Exception {
        open(nydusd(), NydusdConfigTemplate.DEFAULT);
        pullImage(null, Map.of(LayerLabels.CRI_IMAGE_REF, "127.0.0.1:1/x/y:1"));
        StatusRuntimeException e = assertCode(Status.Code.FAILED_PRECONDITION,
                () -> client.prepare("c1", "sha256:m", Map.of()));
        assertTrue(e.getMessage().contains("has no image/image.boot"), e.getMessage());
    }

    @Test
    void aRegistryBackendNeedsTheImageReference() throws Exception {
        open(nydusd(), NydusdConfigTemplate.DEFAULT);
        pullImage("image/image.boot", Map.of());
        StatusRuntimeException e = assertCode(Status.Code.FAILED_PRECONDITION,
                () -> client.prepare("c1", "sha256:m", Map.of()));
        assertTrue(e.getMessage().contains(LayerLabels.CRI_IMAGE_REF), e.getMessage());
        assertCode(Status.Code.NOT_FOUND, () -> client.stat("c1"));
    }

    @Test
    void aDaemonOfASnapshotRemovedWhileTheSnapshotterWasDownIsStoppedAtRecovery() throws Exception {
        open(nydusd(), localfs);
        Path metaDir = pullImage("image/image.boot", Map.of());
        client.prepare("container", "sha256:m", Map.of());
        long pid = nydus.records().get(0).pid();
        close();
        client = null;
        // As if the snapshotter died right after committing the removals, before stopping the daemon.
        try (SnapshotStore store = SnapshotStore.open(root)) {
            store.write(tx -> {
                tx.remove("container");
                return tx.remove("sha256:m");
            });
        }
        assertTrue(ProcessHandle.of(pid).isPresent(), "the daemon outlives the snapshotter");
        assertTrue(MountTable.isMountPoint(metaDir.resolve("mnt")));
        open(nydusd(), localfs);
        assertEquals(List.of(), nydus.records());
        assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
        assertEquals(List.of(), MountTable.under(root));
    }

    @Test
    void withRecoverPolicyNoneADeadDaemonStaysDead() throws Exception {
        open(nydusd(), localfs, SnapshotterConfig.RecoverPolicy.NONE);
        pullImage("image/image.boot", Map.of());
        client.prepare("container", "sha256:m", Map.of());
        long pid = nydus.records().get(0).pid();
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        h.destroyForcibly();
        h.onExit().get();
        Thread.sleep(600);
        assertEquals(pid, nydus.records().get(0).pid(), "not restarted");
        StatusRuntimeException e = assertCode(Status.Code.UNAVAILABLE, () -> client.mounts("container"));
        assertTrue(e.getMessage().contains("recover_policy is none"), e.getMessage());
    }

    private static StatusRuntimeException assertCode(Status.Code code, org.junit.jupiter.api.function.Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
        return e;
    }
}
