package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.builder.CreateOptions;
import io.nydus.builder.CreateResult;
import io.nydus.builder.ImageCreator;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.testdata.TreeManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images built by the project's nydus-image from a directory with every kind of file, in both formats, with
 * every compressor and both digesters, all mounted in one shared daemon: after the page cache is dropped each
 * mount shows the source directory exactly (types, permissions, owners, nanosecond mtimes, sizes, contents,
 * hard links, symlink targets, device numbers, xattrs).
 */
class BuiltImageTest {
    static final int CHUNK = 0x10000;

    @TempDir
    Path dir;

    /** A tree with every kind of entry the daemon serves. */
    static void populate(Path src) throws Exception {
        Random rnd = new Random(42);
        Files.createDirectories(src.resolve("a/b/c/d/e"));
        Files.createDirectories(src.resolve("empty-dir"));
        Files.write(src.resolve("empty"), new byte[0]);
        Files.writeString(src.resolve("hello.txt"), "hello, nydus\n");
        byte[] big = new byte[5 * CHUNK + 1234];
        rnd.nextBytes(big);
        Files.write(src.resolve("a/random.bin"), big);
        Files.write(src.resolve("a/b/same-as-random.bin"), big);
        Files.write(src.resolve("a/b/c/zeros"), new byte[3 * CHUNK]);
        byte[] text = "the quick brown fox jumps over the lazy dog\n".repeat(9000).getBytes(StandardCharsets.UTF_8);
        Files.write(src.resolve("a/b/c/text"), text);
        Files.write(src.resolve("exactly-one-chunk"), java.util.Arrays.copyOf(big, CHUNK));
        Files.writeString(src.resolve("héllo wörld ✓"), "unicode name\n");
        Files.writeString(src.resolve("x".repeat(255)), "long name\n");
        Files.writeString(src.resolve("a/b/c/d/e/deep"), "deep\n");
        Files.writeString(src.resolve("links-1"), "three names, one inode\n");
        Files.createLink(src.resolve("a/links-2"), src.resolve("links-1"));
        Files.createLink(src.resolve("a/b/links-3"), src.resolve("links-1"));
        Files.createSymbolicLink(src.resolve("rel-link"), Path.of("a/b/c/text"));
        Files.createSymbolicLink(src.resolve("abs-link"), Path.of("/etc/hostname"));
        Files.createSymbolicLink(src.resolve("dangling"), Path.of("does/not/exist"));
        Files.createSymbolicLink(src.resolve("dir-link"), Path.of("a/b"));
        Files.writeString(src.resolve("setuid"), "#!/bin/sh\n");
        sh("chmod 4755 '" + src.resolve("setuid") + "'");
        Files.writeString(src.resolve("private"), "secret\n");
        sh("chmod 0600 '" + src.resolve("private") + "' && chown 1000:2000 '" + src.resolve("private") + "'");
        sh("chmod 1777 '" + src.resolve("empty-dir") + "'");
        sh("mknod '" + src.resolve("null") + "' c 1 3 && mknod '" + src.resolve("loop") + "' b 7 200 && mkfifo '"
                + src.resolve("fifo") + "'");
        sh("setfattr -n user.colour -v blue '" + src.resolve("hello.txt") + "' && setfattr -n user.empty '"
                + src.resolve("a") + "' && setfattr -n trusted.overlay.opaque -v y '" + src.resolve("a/b") + "'");
        // Times with nanoseconds, on every entry (symlinks too).
        long t = 1_600_000_000L;
        try (var s = Files.walk(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                t += 7;
                sh("touch -h -d @" + t + "." + String.format(Locale.ROOT, "%09d", (t * 7919) % 1_000_000_000L)
                        + " '" + p + "'");
            }
        }
        Files.setLastModifiedTime(src.resolve("hello.txt"), FileTime.from(Instant.ofEpochSecond(1234, 56789)));
    }

    static void sh(String script) throws Exception {
        ImageChecks.run("bash", "-c", script);
    }

    static CreateResult build(Path src, Path out, String name, RafsVersion v, Compressor c, Digester d)
            throws Exception {
        CreateOptions o = new CreateOptions();
        o.source = src;
        o.fsVersion = v;
        o.compressor = c;
        o.digester = d;
        o.chunkSize = CHUNK;
        o.bootstrap = out.resolve(name + ".boot");
        o.blobDir = Files.createDirectories(out.resolve("blobs"));
        o.threads = 2;
        return ImageCreator.create(o);
    }

    static String config(Path blobs) {
        return "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + blobs + "\"}}},"
                + "\"mode\":\"direct\",\"digest_validate\":true,\"enable_xattr\":true}";
    }

    static String mountBody(Path bootstrap, String config) {
        var b = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        b.put("source", bootstrap.toString());
        b.put("fs_type", "rafs");
        b.put("config", config);
        return b.toString();
    }

    @Test
    void everyFormatCompressorAndDigesterShowsTheSourceTree() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        populate(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        Map<String, Path> images = new LinkedHashMap<>();
        for (RafsVersion v : RafsVersion.values()) {
            for (Compressor c : Compressor.values()) {
                for (Digester d : Digester.values()) {
                    String name = v.name().toLowerCase(Locale.ROOT) + "-" + c.cliName() + "-" + d.cliName();
                    images.put(name, build(src, out, name, v, c, d).bootstrap());
                }
            }
        }
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess daemon = NydusdProcess.start(dir, List.of("fuse", "-M", mnt.toString(), "-A",
                sock.toString()))) {
            daemon.awaitState(sock, "RUNNING");
            UnixHttp api = new UnixHttp(sock);
            for (Map.Entry<String, Path> e : images.entrySet()) {
                UnixHttp.Response r = api.send("POST", ApiServer.MOUNT + "?mountpoint=/" + e.getKey(),
                        mountBody(e.getValue(), config(out.resolve("blobs"))));
                assertEquals(204, r.status(), e.getKey() + ": " + r.body());
            }
            MountInfo.dropCaches();
            Map<String, String> expected = TreeManifest.of(src);
            List<String> failures = new ArrayList<>();
            for (String name : images.keySet()) {
                List<String> d = TreeManifest.diff(expected, TreeManifest.of(mnt.resolve(name)));
                if (!d.isEmpty()) {
                    failures.add(name + ": " + String.join("\n", d.subList(0, Math.min(5, d.size()))));
                }
            }
            assertEquals(List.of(), failures);
            MountInfo.dropCaches();
            for (Map.Entry<String, Path> e : images.entrySet()) {
                try (RafsSuper sb = RafsSuper.open(e.getValue())) {
                    ImageChecks.assertMountMatchesBootstrap(mnt.resolve(e.getKey()), sb, false);
                }
            }
            assertEquals(0, daemon.awaitExitAfterTerm(), daemon.stderr());
        }
    }
}
