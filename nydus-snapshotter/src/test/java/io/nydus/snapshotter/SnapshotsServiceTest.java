package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nydus.snapshotter.api.Info;
import io.nydus.snapshotter.api.types.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** containerd's snapshot semantics through the gRPC service on its unix socket (no containerd involved). */
class SnapshotsServiceTest {
    @TempDir
    Path dir;

    private Path root;
    private Path socket;
    private Snapshotter snapshotter;
    private UnixGrpcServer server;
    private SnapshotsClient client;

    @BeforeEach
    void start() throws IOException {
        root = dir.resolve("root");
        socket = dir.resolve("s.sock");
        open(false);
    }

    private void open(boolean indexOff) throws IOException {
        RootLayout layout = new RootLayout(root);
        snapshotter = new Snapshotter(SnapshotStore.open(root), layout, new OverlayMounts(layout, indexOff, false), null);
        server = UnixGrpcServer.start(socket, new SnapshotsService(snapshotter).definition());
        client = SnapshotsClient.direct(socket);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        snapshotter.close();
    }

    private void restart() throws IOException {
        stop();
        open(false);
    }

    private Path fs(String key) {
        return root.resolve("snapshots").resolve(id(key)).resolve("fs");
    }

    /** The snapshot id, read back from where its mount points. */
    private String id(String key) {
        Info i = client.stat(key);
        return i.getKind() == io.nydus.snapshotter.api.Kind.COMMITTED ? idOfCommitted.get(key) : idFrom(client.mounts(key));
    }

    private final java.util.Map<String, String> idOfCommitted = new java.util.HashMap<>();

    private static String idFrom(List<Mount> mounts) {
        Mount m = mounts.get(0);
        String path = m.getType().equals("bind") ? m.getSource() : m.getOptionsList().stream()
                .filter(o -> o.startsWith("upperdir=")).findFirst().orElseThrow().substring("upperdir=".length());
        return Path.of(path).getParent().getFileName().toString();
    }

    private String commitAndRemember(String name, String key) {
        String id = idFrom(client.mounts(key));
        client.commit(name, key, Map.of());
        idOfCommitted.put(name, id);
        return id;
    }

    @Test
    void layersStackLikeTheOverlayfsSnapshotter() throws IOException {
        List<Mount> base = client.prepare("extract-1", "", Map.of());
        assertEquals(1, base.size());
        assertEquals("bind", base.get(0).getType());
        assertEquals(List.of("rw", "rbind"), base.get(0).getOptionsList());
        Path baseFs = Path.of(base.get(0).getSource());
        Files.writeString(baseFs.resolve("hello"), "hello world\n");
        String baseId = commitAndRemember("layer-1", "extract-1");

        List<Mount> second = client.prepare("extract-2", "layer-1", Map.of());
        Mount ov = second.get(0);
        assertEquals("overlay", ov.getType());
        assertEquals("overlay", ov.getSource());
        String secondId = idFrom(second);
        assertEquals(List.of("workdir=" + root.resolve("snapshots/" + secondId + "/work"),
                "upperdir=" + root.resolve("snapshots/" + secondId + "/fs"),
                "lowerdir=" + root.resolve("snapshots/" + baseId + "/fs")), ov.getOptionsList());
        assertEquals(second, client.mounts("extract-2"));
        commitAndRemember("layer-2", "extract-2");

        // A view of one layer is a read-only bind of it; of two, an overlay with lowerdirs only, nearest first.
        List<Mount> v1 = client.view("view-1", "layer-1", Map.of());
        assertEquals("bind", v1.get(0).getType());
        assertEquals(baseFs.toString(), v1.get(0).getSource());
        assertEquals(List.of("ro", "rbind"), v1.get(0).getOptionsList());
        List<Mount> v2 = client.view("view-2", "layer-2", Map.of());
        assertEquals(List.of("lowerdir=" + fs("layer-2") + ":" + fs("layer-1")), v2.get(0).getOptionsList());
        assertEquals(io.nydus.snapshotter.api.Kind.VIEW, client.stat("view-2").getKind());

        // A container rootfs: writable overlay over both layers.
        List<Mount> rootfs = client.prepare("container", "layer-2", Map.of());
        assertTrue(rootfs.get(0).getOptionsList().contains("lowerdir=" + fs("layer-2") + ":" + fs("layer-1")));

        assertEquals(12, client.usage("layer-1").getSize());
        assertEquals(2, client.usage("layer-1").getInodes());
        Files.writeString(Path.of(idFrom(rootfs).isEmpty() ? "" : root.resolve("snapshots/" + idFrom(rootfs)
                + "/fs/new").toString()), "12345");
        assertEquals(5, client.usage("container").getSize(), "usage of an active snapshot is measured live");
        assertEquals("layer-1", client.stat("layer-2").getParent());
    }

    @Test
    void errorsCarryContainerdsCodes() {
        client.prepare("a", "", Map.of());
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.prepare("a", "", Map.of()));
        assertCode(Status.Code.NOT_FOUND, () -> client.prepare("b", "missing", Map.of()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.prepare("b", "a", Map.of()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.prepare("", "", Map.of()));
        client.commit("A", "a", Map.of());
        assertCode(Status.Code.NOT_FOUND, () -> client.commit("A2", "a", Map.of()));
        client.view("v", "A", Map.of());
        assertCode(Status.Code.FAILED_PRECONDITION, () -> client.commit("V", "v", Map.of()));
        client.prepare("c", "A", Map.of());
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.commit("A", "c", Map.of()));
        assertCode(Status.Code.FAILED_PRECONDITION, () -> client.remove("A"));
        assertCode(Status.Code.NOT_FOUND, () -> client.remove("nope"));
        assertCode(Status.Code.NOT_FOUND, () -> client.stat("nope"));
        assertCode(Status.Code.NOT_FOUND, () -> client.usage("nope"));
        assertCode(Status.Code.FAILED_PRECONDITION, () -> client.mounts("A"));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.update(Info.newBuilder().setName("A").build(), "parent"));
        assertCode(Status.Code.NOT_FOUND, () -> client.update(Info.newBuilder().setName("nope").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.list("name=="));
    }

    @Test
    void labelsAreUpdatedWholeOrByPath() {
        client.prepare("a", "", Map.of("x", "1", "y", "2"));
        Info all = client.update(Info.newBuilder().setName("a").putLabels("z", "3").build());
        assertEquals(Map.of("z", "3"), all.getLabelsMap());
        Info one = client.update(Info.newBuilder().setName("a").putLabels("w", "4").putLabels("z", "ignored").build(),
                "labels.w");
        assertEquals(Map.of("z", "3", "w", "4"), one.getLabelsMap());
        Info removed = client.update(Info.newBuilder().setName("a").build(), "labels.z");
        assertEquals(Map.of("w", "4"), removed.getLabelsMap());
        assertEquals(Map.of("w", "4"), client.stat("a").getLabelsMap());
        assertTrue(client.stat("a").getUpdatedAt().getSeconds() >= client.stat("a").getCreatedAt().getSeconds());
    }

    @Test
    void listFiltersAsContainerdSends() {
        client.prepare("a", "", Map.of());
        client.commit("sha256:aaa", "a", Map.of("containerd.io/snapshot.ref", "sha256:aaa", "team", "x"));
        client.prepare("b", "sha256:aaa", Map.of());
        client.commit("sha256:bbb", "b", Map.of("containerd.io/snapshot.ref", "sha256:bbb"));
        client.prepare("c", "sha256:bbb", Map.of());

        assertEquals(Set.of("sha256:aaa", "sha256:bbb", "c"), names(client.list()));
        // The lookup containerd's metadata store does after a remote snapshotter answers AlreadyExists.
        assertEquals(Set.of("sha256:bbb"), names(client.list(
                "labels.\"containerd.io/snapshot.ref\"==sha256:bbb,parent==\"sha256:aaa\"")));
        assertEquals(Set.of(), names(client.list(
                "labels.\"containerd.io/snapshot.ref\"==sha256:bbb,parent==\"other\"")));
        assertEquals(Set.of("c"), names(client.list("kind==active")));
        assertEquals(Set.of("sha256:aaa", "c"), names(client.list("labels.team", "kind==active")));
        assertEquals(Set.of("sha256:bbb"), names(client.list("name~=/b+$/")));
        assertEquals(Set.of("sha256:aaa", "sha256:bbb", "c"), names(client.list("parent")), "always present");
        assertEquals(Set.of("sha256:aaa"), names(client.list("parent==\"\"")));
        assertEquals(Set.of("sha256:aaa"), names(client.list("name!=sha256:bbb,kind==committed")));
    }

    @Test
    void aNydusDataLayerIsCommittedRemotelyAndNeverUnpacked() {
        Map<String, String> labels = Map.of("containerd.io/snapshot.ref", "sha256:chain1",
                "containerd.io/snapshot/nydus-blob", "true");
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.prepare("test/1/extract-1 sha256:chain1", "", labels));
        Info t = client.stat("sha256:chain1");
        assertEquals(io.nydus.snapshotter.api.Kind.COMMITTED, t.getKind());
        assertEquals(labels, t.getLabelsMap());
        assertCode(Status.Code.NOT_FOUND, () -> client.stat("test/1/extract-1 sha256:chain1"));
        // The next data layer stacks on it; a second pull of the same chain answers AlreadyExists at once.
        Map<String, String> labels2 = Map.of("containerd.io/snapshot.ref", "sha256:chain2",
                "containerd.io/snapshot/nydus-blob", "true");
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.prepare("k2", "sha256:chain1", labels2));
        assertCode(Status.Code.ALREADY_EXISTS, () -> client.prepare("k3", "sha256:chain1", labels2));
        assertEquals(Set.of("sha256:chain1", "sha256:chain2"), names(client.list()));
        assertEquals(Set.of("sha256:chain2"), names(client.list(
                "labels.\"containerd.io/snapshot.ref\"==sha256:chain2,parent==\"sha256:chain1\"")));
        // The bootstrap layer is unpacked normally on top of them.
        List<Mount> boot = client.prepare("k4", "sha256:chain2", Map.of("containerd.io/snapshot.ref", "sha256:chain3",
                "containerd.io/snapshot/nydus-bootstrap", "true"));
        assertEquals("overlay", boot.get(0).getType());
        assertTrue(boot.get(0).getOptionsList().stream().anyMatch(o -> o.startsWith("upperdir=")));
    }

    @Test
    void everythingSurvivesARestartAndRemovalCleansUp() throws IOException {
        client.prepare("a", "", Map.of("k", "ignored"));
        idOfCommitted.put("A", idFrom(client.mounts("a")));
        client.commit("A", "a", Map.of("k", "v")); // commit labels replace the active's, as in containerd
        List<Mount> b = client.prepare("b", "A", Map.of());
        Path bDir = root.resolve("snapshots").resolve(idFrom(b));
        restart();
        assertEquals(Set.of("A", "b"), names(client.list()));
        assertEquals(Map.of("k", "v"), client.stat("A").getLabelsMap());
        assertEquals(b, client.mounts("b"));
        assertTrue(Files.isDirectory(bDir.resolve("fs")));

        client.remove("b");
        assertFalse(Files.exists(bDir));
        Path orphan = root.resolve("snapshots").resolve("999");
        Files.createDirectories(orphan.resolve("fs"));
        client.cleanup();
        assertFalse(Files.exists(orphan));
        assertTrue(Files.isDirectory(root.resolve("snapshots").resolve(idOfCommitted.get("A"))));
        // ids are never reused, so a recreated key gets a fresh directory
        List<Mount> b2 = client.prepare("b", "A", Map.of());
        assertFalse(idFrom(b2).equals(bDir.getFileName().toString()));
    }

    @Test
    void indexOffAndVolatileOptions() throws IOException {
        stop();
        open(true);
        client.prepare("a", "", Map.of());
        client.commit("A", "a", Map.of());
        List<Mount> m = client.prepare("b", "A", Map.of());
        assertEquals("index=off", m.get(0).getOptions(0));
        assertEquals(List.of("rw", "rbind"), client.prepare("c", "", Map.of()).get(0).getOptionsList());
        List<Mount> v = client.prepare("d", "A", Map.of("containerd.io/snapshot/overlay.volatile", "true"));
        assertEquals(List.of("index=off", "volatile"), v.get(0).getOptionsList().subList(0, 2));
    }

    private static Set<String> names(List<Info> infos) {
        return infos.stream().map(Info::getName).collect(Collectors.toSet());
    }

    private static void assertCode(Status.Code code, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
    }
}
