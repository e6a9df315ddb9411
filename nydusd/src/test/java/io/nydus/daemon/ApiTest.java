package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.testdata.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The administration API over its unix socket, as the snapshotter and operators use it. */
class ApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The body of POST /api/v1/mount, with the configuration as a JSON string, as the snapshotter sends it. */
    private String mountBody(Path bootstrap, Path blobs, String extraBackendKeys) {
        String cfg = "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + blobs + "\""
                + extraBackendKeys + "}}},\"mode\":\"direct\",\"digest_validate\":true,\"iostats_files\":true}";
        ObjectNode b = JSON.createObjectNode();
        b.put("source", bootstrap.toString());
        b.put("fs_type", "rafs");
        b.put("config", cfg);
        b.putArray("prefetch_files");
        return b.toString();
    }

    private static Set<String> list(Path p) throws Exception {
        try (Stream<Path> s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void fuseDaemonWithBootstrapReportsItselfAndItsMetrics() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"device\":{\"id\":\"img\",\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\""
                + Fixtures.get("blobs") + "\",\"auth\":\"c2VjcmV0\"}}},\"mode\":\"direct\",\"iostats_files\":true,"
                + "\"latest_read_files\":true,\"access_pattern\":true}");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", Fixtures.get(FixtureMountTest.V6_BOOT).toString(), "-A", sock.toString(), "--id", "daemon-1",
                "--supervisor", dir.resolve("sup").toString()))) {
            d.awaitState(sock, "RUNNING");
            UnixHttp api = new UnixHttp(sock);
            JsonNode info = api.get(ApiServer.DAEMON).json();
            assertEquals("daemon-1", info.get("id").asText());
            assertEquals(dir.resolve("sup").toString(), info.get("supervisor").asText());
            for (String k : List.of("package_ver", "git_commit", "build_time", "profile", "rustc")) {
                assertTrue(info.get("version").has(k), k);
            }
            JsonNode be = info.get("backend_collection").get("/");
            assertEquals("Rafs", be.get("backend_type").asText());
            assertEquals("localfs", be.get("config").get("backend").get("type").asText());
            assertFalse(info.toString().contains("c2VjcmV0"), "secrets are removed: " + info);

            UnixHttp.Response backend = api.get(ApiServer.DAEMON_BACKEND + "?mountpoint=/");
            assertEquals(200, backend.status());
            assertFalse(backend.body().contains("c2VjcmV0"));
            assertEquals(404, api.get(ApiServer.DAEMON_BACKEND + "?mountpoint=/nothing").status());

            byte[] data = Files.readAllBytes(mnt.resolve("lib.rs"));
            JsonNode m = api.get(ApiServer.METRICS).json();
            assertEquals("/", m.get("id").asText());
            assertTrue(m.get("data_read").asLong() >= data.length, m.toString());
            assertEquals(15, m.get("fop_hits").size());
            assertTrue(m.get("fop_hits").get(FsMetrics.Fop.READ.ordinal()).asLong() > 0, m.toString());
            assertTrue(m.get("fop_hits").get(FsMetrics.Fop.OPEN.ordinal()).asLong() > 0, m.toString());
            assertEquals(8, m.get("block_count_read").size());
            assertEquals(200, api.get(ApiServer.METRICS + "?id=img").status());
            assertEquals(404, api.get(ApiServer.METRICS + "?id=other").status());
            assertTrue(api.get(ApiServer.METRICS_FILES).json().has("133"));
            assertEquals("[133]", api.get(ApiServer.METRICS_FILES + "?latest=true").body());
            assertEquals("[]", api.get(ApiServer.METRICS_FILES + "?latest=true").body(), "cleared once read");
            assertTrue(api.get(ApiServer.METRICS_PATTERN).body().contains("lib.rs"));
            JsonNode bm = api.get(ApiServer.METRICS_BACKEND).json();
            assertEquals("localfs", bm.get("backend_type").asText());
            assertTrue(bm.get("read_count").asLong() > 0);
            assertEquals(200, api.get(ApiServer.METRICS_BLOBCACHE).status());
            assertEquals(204, api.get(ApiServer.METRICS_INFLIGHT).status(), "nothing in flight");

            UnixHttp.Response prom = api.get(ApiServer.METRICS_TEXT);
            assertEquals(200, prom.status());
            assertTrue(prom.headers().get("content-type").startsWith("text/plain"));
            assertTrue(prom.body().contains("nydusd_daemon_state 2"), prom.body());
            assertTrue(prom.body().contains("nydusd_fs_fop_hits_total{mountpoint=\"/\",fop=\"read\"}"));

            // Errors: upstream codes and {"code","message"} bodies.
            UnixHttp.Response nf = api.get("/api/v1/nothing");
            assertEquals(404, nf.status());
            assertEquals("UNDEFINED", nf.json().get("code").asText());
            assertTrue(nf.json().has("message"));
            assertEquals(400, api.send("DELETE", ApiServer.DAEMON, null).status());
            assertEquals(400, api.send("PUT", ApiServer.DAEMON, "{\"log_level\":\"loud\"}").status());
            assertEquals(400, api.send("PUT", ApiServer.DAEMON, "not json").status());
            assertEquals(204, api.send("PUT", ApiServer.DAEMON, "{\"log_level\":\"debug\"}").status());
            UnixHttp.Response noSupervisor = api.send("PUT", ApiServer.SENDFD, null);
            assertEquals(500, noSupervisor.status(), "nothing listens on the supervisor socket");
            assertTrue(noSupervisor.json().get("message").asText().contains("sendfd"), noSupervisor.body());
            assertEquals(400, api.send("POST", ApiServer.MOUNT, "{}").status(), "mountpoint query missing");
            assertEquals(204, api.send("PUT", ApiServer.DAEMON_START, null).status());
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }

    /**
     * The snapshotter's shared daemon: one FUSE mount, images mounted at /<id> inside it through the API, each
     * visible at once (even after a failed lookup of the same name) and gone at once after DELETE.
     */
    @Test
    void sharedDaemonMountsImagesAtVirtualPaths() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-M", mnt.toString(), "-A",
                sock.toString()))) {
            d.awaitState(sock, "RUNNING");
            assertEquals(Set.of(), list(mnt));
            UnixHttp api = new UnixHttp(sock);
            Path v6 = Fixtures.get(FixtureMountTest.V6_BOOT);
            Path v5 = Fixtures.get("repeatable/sha256-nocompress-repeatable");
            assertFalse(Files.exists(mnt.resolve("id2")), "a failed lookup the kernel may cache");

            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=/id1",
                    mountBody(v6, Fixtures.get("blobs"), "")).status());
            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=/id2",
                    mountBody(v5, Fixtures.get("repeatable/blobs"), "")).status());
            assertEquals(Set.of("id1", "id2"), list(mnt));
            assertEquals(Set.of("lib.rs", "sync_io.rs"), list(mnt.resolve("id1")));
            assertTrue(Files.isDirectory(mnt.resolve("id2/hardlink-test")));
            MountInfo.dropCaches();
            FixtureMountTest.assertMatchesResult(mnt.resolve("id2"),
                    Fixtures.get("repeatable/sha256-nocompress-repeatable.result"));
            // Inode numbers of different images never collide.
            assertNotEquals(Files.getAttribute(mnt.resolve("id1"), "unix:ino"),
                    Files.getAttribute(mnt.resolve("id2"), "unix:ino"));

            assertEquals(400, api.send("POST", ApiServer.MOUNT + "?mountpoint=/id1",
                    mountBody(v6, Fixtures.get("blobs"), "")).status(), "already mounted");
            assertEquals(404, api.get(ApiServer.METRICS).status(), "two images: an id is needed");
            assertEquals("/id2", api.get(ApiServer.METRICS + "?id=/id2").json().get("id").asText());
            JsonNode all = api.get(ApiServer.DAEMON).json().get("backend_collection");
            assertEquals(Set.of("/id1", "/id2"), fieldNames(all));

            assertEquals(204, api.send("DELETE", ApiServer.MOUNT + "?mountpoint=/id1", null).status());
            assertFalse(Files.exists(mnt.resolve("id1")));
            assertEquals(Set.of("id2"), list(mnt));
            assertEquals(404, api.send("DELETE", ApiServer.MOUNT + "?mountpoint=/id1", null).status());

            // Remount swaps the image behind a mountpoint.
            assertEquals(204, api.send("PUT", ApiServer.MOUNT + "?mountpoint=/id2",
                    mountBody(v6, Fixtures.get("blobs"), "")).status());
            assertEquals(16931, Files.size(mnt.resolve("id2/lib.rs")));
            assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
        }
        assertFalse(MountInfo.isMounted(mnt));
    }

    private static Set<String> fieldNames(JsonNode n) {
        Set<String> s = new TreeSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    /** Singleton mode: no mount of its own; every image gets its own FUSE mount at a host path. */
    @Test
    void singletonMountsImagesAtHostPaths() throws Exception {
        Path sock = dir.resolve("api.sock");
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("singleton", "--apisock", sock.toString()))) {
            d.cleanUp(a);
            d.cleanUp(b);
            d.awaitState(sock, "RUNNING");
            UnixHttp api = new UnixHttp(sock);
            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=" + a,
                    mountBody(Fixtures.get(FixtureMountTest.V6_BOOT), Fixtures.get("blobs"), "")).status());
            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=" + b,
                    mountBody(Fixtures.get("repeatable/blake3-lz4_block-non_repeatable"),
                            Fixtures.get("repeatable/blobs"), "")).status());
            assertTrue(MountInfo.isMounted(a));
            assertTrue(MountInfo.isMounted(b));
            assertEquals(Set.of("lib.rs", "sync_io.rs"), list(a));
            assertEquals(128L, Files.getAttribute(a, "unix:ino"));
            MountInfo.dropCaches();
            FixtureMountTest.assertMatchesResult(b, Fixtures.get("repeatable/blake3-lz4_block-non_repeatable.result"));

            // Bad requests mount nothing.
            Path c = Files.createDirectories(dir.resolve("c"));
            d.cleanUp(c);
            String bad = mountBody(Fixtures.get(FixtureMountTest.V6_BOOT), Fixtures.get("blobs"), "")
                    .replace("\\\"direct\\\"", "\\\"sideways\\\"");
            UnixHttp.Response r = api.send("POST", ApiServer.MOUNT + "?mountpoint=" + c, bad);
            assertEquals(400, r.status(), r.body());
            assertTrue(r.json().get("message").asText().contains("mode"), r.body());
            r = api.send("POST", ApiServer.MOUNT + "?mountpoint=" + c,
                    mountBody(dir.resolve("none.boot"), Fixtures.get("blobs"), ""));
            assertEquals(400, r.status(), r.body());
            r = api.send("POST", ApiServer.MOUNT + "?mountpoint=" + c, mountBody(Fixtures.get(FixtureMountTest.V6_BOOT),
                    Fixtures.get("blobs"), "").replace("\"rafs\"", "\"passthrough_fs\""));
            assertEquals(501, r.status(), r.body());
            assertFalse(MountInfo.isMounted(c));

            // Remount swaps the image: nothing the kernel cached of the old one (names, attributes, listings,
            // pages) shows through.
            assertEquals(16931, Files.readAllBytes(a.resolve("lib.rs")).length);
            assertEquals(Set.of("lib.rs", "sync_io.rs"), list(a));
            assertEquals(204, api.send("PUT", ApiServer.MOUNT + "?mountpoint=" + a,
                    mountBody(Fixtures.get("repeatable/sha256-nocompress-repeatable"),
                            Fixtures.get("repeatable/blobs"), "")).status());
            assertFalse(Files.exists(a.resolve("lib.rs")));
            FixtureMountTest.assertMatchesResult(a, Fixtures.get("repeatable/sha256-nocompress-repeatable.result"));

            assertEquals(204, api.send("DELETE", ApiServer.MOUNT + "?mountpoint=" + a, null).status());
            assertFalse(MountInfo.isMounted(a));
            assertTrue(MountInfo.isMounted(b));
            JsonNode be = api.get(ApiServer.DAEMON).json().get("backend_collection");
            assertEquals(Set.of(b.toString()), fieldNames(be));
            assertNull(be.get(b.toString()).get("config").get("backend").get("localfs").get("auth"));

            // An image unmounted from outside is forgotten; the daemon stays.
            assertEquals(0, MountInfo.run(List.of("fusermount", "-u", b.toString())));
            for (int i = 0; i < 100 && api.get(ApiServer.DAEMON).json().get("backend_collection").size() > 0; i++) {
                Thread.sleep(50);
            }
            assertEquals(0, api.get(ApiServer.DAEMON).json().get("backend_collection").size());
            assertTrue(d.process().isAlive());
            assertEquals(204, api.send("PUT", ApiServer.DAEMON_EXIT, null).status());
            assertEquals(0, d.awaitExit(LifecycleTest.EXIT));
        }
    }
}
