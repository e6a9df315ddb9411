package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.Fixtures;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Upstream's own images mounted by the launcher with the localfs backend: after the page cache is dropped,
 * everything a user sees matches the bootstrap and upstream's recorded listing and checksums.
 */
class FixtureMountTest {
    static final String V6_BOOT = "bootstrap/rafs-v6-2.2.boot";

    @TempDir
    Path dir;

    static Path config(Path dir, Path blobs, boolean cache) throws Exception {
        String cacheJson = cache ? ",\"cache\":{\"type\":\"blobcache\",\"config\":{\"work_dir\":\""
                + dir.resolve("cache") + "\"}}" : "";
        Path c = dir.resolve("config.json");
        Files.writeString(c, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + blobs + "\"}}"
                + cacheJson + "},\"mode\":\"direct\",\"digest_validate\":true,\"enable_xattr\":true}");
        return c;
    }

    @Test
    void v6ImageOfNydus22() throws Exception {
        Path boot = Fixtures.get(V6_BOOT);
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "--config",
                config(dir, Fixtures.get("blobs"), true).toString(), "--mountpoint", mnt.toString(), "--bootstrap",
                boot.toString()));
                RafsSuper sb = RafsSuper.open(boot)) {
            d.awaitMounted(mnt);
            MountInfo.dropCaches();
            assertEquals(3, ImageChecks.assertMountMatchesBootstrap(mnt, sb, true));
            assertEquals(16931, Files.size(mnt.resolve("lib.rs")));
            assertEquals(133L, Files.getAttribute(mnt.resolve("lib.rs"), "unix:ino"));
            assertEquals("fuse.rafs", MountInfo.fsType(mnt));
            // Read twice more: from the page cache, and after dropping it again.
            byte[] first = Files.readAllBytes(mnt.resolve("sync_io.rs"));
            MountInfo.dropCaches();
            assertEquals(HexFormat.of().formatHex(sha256(first)),
                    HexFormat.of().formatHex(sha256(Files.readAllBytes(mnt.resolve("sync_io.rs")))));
            assertTrue(d.process().isAlive());
        }
        assertFalse(MountInfo.isMounted(mnt));
    }

    /** The v5 fixtures: the same tree and blob, with sha256 and with blake3 digests; no cache. */
    @ParameterizedTest
    @ValueSource(strings = {"sha256-nocompress-repeatable", "blake3-lz4_block-non_repeatable"})
    void v5ImagesWithHardLinksSymlinksAndHoles(String name) throws Exception {
        Path boot = Fixtures.get("repeatable/" + name);
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("--config",
                config(dir, Fixtures.get("repeatable/blobs"), false).toString(), "--mountpoint", mnt.toString(),
                "--bootstrap", boot.toString(), "--thread-num", "2"));
                RafsSuper sb = RafsSuper.open(boot)) {
            d.awaitMounted(mnt);
            MountInfo.dropCaches();
            assertEquals(54, ImageChecks.assertMountMatchesBootstrap(mnt, sb, true));
            MountInfo.dropCaches();
            assertMatchesResult(mnt, Fixtures.get("repeatable/" + name + ".result"));

            Path a = mnt.resolve("hardlink-test/foo");
            Path b = mnt.resolve("hardlink-test/test.sh");
            assertEquals(Files.getAttribute(a, "unix:ino"), Files.getAttribute(b, "unix:ino"));
            assertEquals(3, Files.getAttribute(a, "unix:nlink"));
            assertNotEquals(Files.getAttribute(a, "unix:ino"),
                    Files.getAttribute(mnt.resolve("normal-file-test/busybox/manifest.json"), "unix:ino"));
            assertEquals("../normal-file-test/", Files.readSymbolicLink(mnt.resolve("symlink-test/foo")).toString());
            assertTrue(Files.isDirectory(mnt.resolve("symlink-test/foo")), "symlink to a directory resolves");
            assertEquals(0, d.awaitExitAfterTerm());
        }
        assertFalse(MountInfo.isMounted(mnt));
    }

    /**
     * The ".result" files: a {@code tree -J} listing (names, types, symlink targets) followed by md5 sums of
     * the files, recorded by upstream from the source tree.
     */
    static void assertMatchesResult(Path mnt, Path result) throws Exception {
        String text = Files.readString(result);
        int end = text.indexOf("\n]\n") + 3;
        JsonNode tree = new ObjectMapper().readTree(text.substring(0, end));
        Map<String, String> expected = new TreeMap<>();
        walk(tree.get(0), "", expected);
        Map<String, String> actual = new TreeMap<>();
        try (var s = Files.walk(mnt)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = "/" + mnt.relativize(p);
                if (rel.equals("/")) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    actual.put(rel, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    actual.put(rel, "directory");
                } else {
                    actual.put(rel, "file");
                }
            }
        }
        assertEquals(expected, actual);
        int sums = 0;
        for (String line : text.substring(end).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String md5 = line.substring(0, 32);
            String path = line.substring(34);
            byte[] data = Files.readAllBytes(mnt.resolve(path.substring(1)));
            assertEquals(md5, HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data)), path);
            sums++;
        }
        assertEquals(23, sums);
    }

    private static void walk(JsonNode n, String path, Map<String, String> out) {
        String type = n.get("type").asText();
        String name = n.get("name").asText();
        String p = path.equals("/") || path.isEmpty() ? path + (name.isEmpty() ? "" : "/" + name) : path + "/" + name;
        if (!p.isEmpty()) {
            out.put(p, type.equals("link") ? "link " + n.get("target").asText() : type);
        }
        if (type.equals("directory") && n.has("contents")) {
            for (JsonNode c : n.get("contents")) {
                walk(c, p.isEmpty() ? "" : p, out);
            }
        }
    }

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    static Duration exitTimeout() {
        return Duration.ofSeconds(30);
    }
}
