package io.nydus.nydusify;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.builder.Unpacker;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.Json;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.DebianRootfs;
import io.nydus.testdata.TreeManifest;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Real test images, built with the tools users build images with (umoci, skopeo, GNU tar; see
 * real-components.md) into one OCI layout under {@code target/test-images}, once per build directory:
 * <ul>
 * <li>{@code busybox} — 4 layers: busybox with its symlinks and a data tree (hard links, symlinks, a 5 MB file, a
 * FIFO, a character device, xattrs, setuid and owner bits); file and directory whiteouts (umoci repack); an opaque
 * directory and a hard-link pair (hand-made tar); more whiteouts, a long and a non-ASCII name, another 5 MB file.</li>
 * <li>{@code busybox-insert} — busybox plus a layer written by {@code umoci insert}, whose tar stream has no
 * end-of-archive blocks.</li>
 * <li>{@code busybox-zstd}, {@code busybox-plain} — busybox with zstd-compressed and uncompressed layers (skopeo).</li>
 * <li>{@code busybox-arm64} and {@code multi} — an arm64 variant and an OCI index of both platforms.</li>
 * <li>{@code debian}, {@code debian2} — Debian bookworm minbase ({@link DebianRootfs}) as one layer; a second
 * Debian-based image (documentation removed, a file added) for deduplication.</li>
 * </ul>
 */
final class TestImages {
    /** Bump when the images change, to rebuild cached layouts. */
    private static final String VERSION = "v3";
    private static final Random RANDOM = new Random(42);

    private TestImages() {
    }

    static Path root() {
        return Paths.get("target", "test-images").toAbsolutePath();
    }

    /** The layout holding the small images (built on first use). */
    static synchronized Path layout() throws IOException {
        Path dir = root().resolve("oci");
        Path done = root().resolve(".complete-small-" + VERSION);
        if (!Files.exists(done)) {
            ImageConverter.class.getName(); // keep the class loaded before long command runs
            WorkDir.delete(dir);
            buildSmall(dir);
            Files.createFile(done);
        }
        return dir;
    }

    /** The layout holding the Debian images (built on first use, ~10 s plus the cached rootfs). */
    static synchronized Path debianLayout() throws IOException {
        Path dir = root().resolve("debian");
        Path done = root().resolve(".complete-debian-" + VERSION);
        if (!Files.exists(done)) {
            WorkDir.delete(dir);
            buildDebian(dir);
            Files.createFile(done);
        }
        return dir;
    }

    static String ref(Path layout, String tag) {
        return "oci:" + layout + ":" + tag;
    }

    // ---------------------------------------------------------------------------------------------- building

    private static void buildSmall(Path oci) throws IOException {
        Files.createDirectories(oci.getParent());
        try (WorkDir w = WorkDir.create(root(), "build-")) {
            Path work = w.path();
            run("umoci", "init", "--layout", oci.toString());
            run("umoci", "new", "--image", oci + ":base");
            Path bundle = work.resolve("bundle");
            run("umoci", "unpack", "--image", oci + ":base", bundle.toString());
            Path r = bundle.resolve("rootfs");

            // layer 1: busybox and a data tree with every kind of entry
            for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc", "data/sub", "data/dir-to-delete/b",
                    "data/opaque/sub", "tmp")) {
                Files.createDirectories(r.resolve(d));
            }
            run("cp", "/bin/busybox", r.resolve("bin/busybox").toString());
            run("chroot", r.toString(), "/bin/busybox", "--install", "-s");
            Files.writeString(r.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
            Files.writeString(r.resolve("etc/group"), "root:x:0:\nuser:x:1000:\n");
            Files.writeString(r.resolve("data/keep.txt"), "keep\n");
            Files.writeString(r.resolve("data/delete-me.txt"), "to be deleted\n");
            Files.writeString(r.resolve("data/dir-to-delete/a"), "a\n");
            Files.writeString(r.resolve("data/dir-to-delete/b/c"), "c\n");
            Files.writeString(r.resolve("data/opaque/old1"), "old1\n");
            Files.writeString(r.resolve("data/opaque/sub/old2"), "old2\n");
            Files.writeString(r.resolve("data/hl-a"), "hard linked\n");
            run("ln", r.resolve("data/hl-a").toString(), r.resolve("data/hl-b").toString());
            run("ln", r.resolve("data/hl-a").toString(), r.resolve("data/sub/hl-c").toString());
            run("ln", "-s", "keep.txt", r.resolve("data/link-rel").toString());
            run("ln", "-s", "/bin/busybox", r.resolve("data/link-abs").toString());
            run("ln", "-s", "does/not/exist", r.resolve("data/link-dangling").toString());
            writeRandom(r.resolve("data/big.bin"), 5 << 20);
            Files.createFile(r.resolve("data/empty"));
            run("mkfifo", r.resolve("data/fifo").toString());
            run("mknod", r.resolve("data/chr").toString(), "c", "1", "3");
            Files.writeString(r.resolve("data/suid"), "#!/bin/sh\n");
            run("chmod", "4755", r.resolve("data/suid").toString());
            Files.writeString(r.resolve("data/owned"), "owned by 1000\n");
            run("chown", "1000:1000", r.resolve("data/owned").toString());
            run("setfattr", "-n", "user.test", "-v", "hello", r.resolve("data/keep.txt").toString());
            run("setfattr", "-n", "user.binary", "-v", "0x00ff10fe", r.resolve("data/keep.txt").toString());
            run("setfattr", "-n", "user.dir", "-v", "on-a-dir", r.resolve("data/sub").toString());
            run("chmod", "1777", r.resolve("tmp").toString());
            run("touch", "-h", "-d", "2021-03-04 05:06:07", r.resolve("data/link-rel").toString());
            run("umoci", "repack", "--refresh-bundle", "--image", oci + ":l1", bundle.toString());

            // layer 2: whiteouts of a file and a directory, changed content and metadata, a broken hard-link group
            Files.delete(r.resolve("data/delete-me.txt"));
            run("rm", "-rf", r.resolve("data/dir-to-delete").toString());
            Files.writeString(r.resolve("data/keep.txt"), "keep, changed in layer 2\n");
            run("chmod", "0600", r.resolve("data/owned").toString());
            Files.writeString(r.resolve("data/new-in-l2"), "new in layer 2\n");
            Files.delete(r.resolve("data/hl-b"));
            Files.writeString(r.resolve("data/hl-b"), "no longer a hard link\n");
            run("umoci", "repack", "--refresh-bundle", "--image", oci + ":l2", bundle.toString());

            // layer 3, hand-made: an opaque directory and a hard-link pair
            Path stage = work.resolve("stage");
            Files.createDirectories(stage.resolve("data/opaque"));
            Files.createFile(stage.resolve("data/opaque/.wh..wh..opq"));
            Files.writeString(stage.resolve("data/opaque/after-opaque"), "only this is left\n");
            Files.writeString(stage.resolve("data/l3-a"), "linked in layer 3\n");
            run("ln", stage.resolve("data/l3-a").toString(), stage.resolve("data/l3-b").toString());
            run("chmod", "0755", stage.resolve("data").toString(), stage.resolve("data/opaque").toString());
            Path l3 = work.resolve("l3.tar");
            run("tar", "--numeric-owner", "--owner=0", "--group=0", "--format=posix", "--sort=name", "-C",
                    stage.toString(), "-cf", l3.toString(), "data");
            run("umoci", "raw", "add-layer", "--image", oci + ":l2", "--tag", "l3", l3.toString());

            // layer 4: more whiteouts (a symlink), another 5 MB file, long and non-ASCII names
            Path bundle2 = work.resolve("bundle2");
            run("umoci", "unpack", "--image", oci + ":l3", bundle2.toString());
            Path r2 = bundle2.resolve("rootfs");
            Files.delete(r2.resolve("data/link-dangling"));
            writeRandom(r2.resolve("data/big2.bin"), 5 << 20);
            Files.createDirectories(r2.resolve("data/deep/a/b/c/d"));
            Files.writeString(r2.resolve("data/deep/a/b/c/d/" + "long-name-".repeat(12) + "end"), "long\n");
            Files.writeString(r2.resolve("data/ünïcödé ✓.txt"), "utf-8 name\n");
            run("umoci", "repack", "--image", oci + ":busybox", bundle2.toString());
            run("umoci", "config", "--image", oci + ":busybox", "--config.cmd", "/bin/sh",
                    "--config.env", "PATH=/bin:/sbin:/usr/bin:/usr/sbin");
            for (String tag : List.of("base", "l1", "l2", "l3")) {
                run("umoci", "rm", "--image", oci + ":" + tag);
            }

            // a layer without end-of-archive blocks
            run("umoci", "tag", "--image", oci + ":busybox", "busybox-insert");
            Path inserted = work.resolve("inserted");
            Files.createDirectories(inserted);
            Files.writeString(inserted.resolve("hello.txt"), "inserted by umoci insert\n");
            run("umoci", "insert", "--image", oci + ":busybox-insert", inserted.toString(), "/data/inserted");

            // zstd and uncompressed layers, through skopeo's dir: transport
            Path dz = work.resolve("dir-zstd");
            run("skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "oci:" + oci + ":busybox",
                    "dir:" + dz);
            run("skopeo", "copy", "-q", "dir:" + dz, "oci:" + oci + ":busybox-zstd");
            Path du = work.resolve("dir-plain");
            run("skopeo", "copy", "-q", "--dest-decompress", "oci:" + oci + ":busybox", "dir:" + du);
            run("skopeo", "copy", "-q", "--dest-oci-accept-uncompressed-layers", "dir:" + du,
                    "oci:" + oci + ":busybox-plain");

            // a second platform and an index of both
            run("umoci", "tag", "--image", oci + ":busybox-insert", "busybox-arm64");
            run("umoci", "config", "--image", oci + ":busybox-arm64", "--architecture", "arm64");
            addIndex(oci, "multi", List.of("busybox", "busybox-arm64"), List.of("amd64", "arm64"));
            run("umoci", "gc", "--layout", oci.toString());
        }
    }

    private static void buildDebian(Path oci) throws IOException {
        Path tar = DebianRootfs.tar();
        Path rootfs = DebianRootfs.dir();
        Files.createDirectories(oci.getParent());
        try (WorkDir w = WorkDir.create(root(), "build-")) {
            run("umoci", "init", "--layout", oci.toString());
            run("umoci", "new", "--image", oci + ":empty");
            run("umoci", "raw", "add-layer", "--image", oci + ":empty", "--tag", "debian", tar.toString());
            run("umoci", "config", "--image", oci + ":debian", "--config.cmd", "/bin/bash");
            // debian2: the same distribution without its documentation, plus a file of its own
            Path extra = w.path().resolve("extra");
            Files.createDirectories(extra.resolve("opt"));
            writeRandom(extra.resolve("opt/extra.bin"), 3 << 20);
            Path tar2 = w.path().resolve("debian2.tar");
            run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--format=posix", "-cf", tar2.toString(),
                    "-C", rootfs.toString(), "--exclude=./usr/share/doc", "--exclude=./usr/share/man", ".",
                    "-C", extra.toString(), "./opt/extra.bin");
            run("umoci", "raw", "add-layer", "--image", oci + ":empty", "--tag", "debian2", tar2.toString());
            run("umoci", "config", "--image", oci + ":debian2", "--config.cmd", "/bin/bash");
            run("umoci", "rm", "--image", oci + ":empty");
        }
    }

    /** Adds an OCI index of {@code tags} (one per architecture) to the layout as {@code name}. */
    private static void addIndex(Path oci, String name, List<String> tags, List<String> archs) throws IOException {
        ObjectNode index = Json.MAPPER.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        ArrayNode ms = index.putArray("manifests");
        ObjectNode layoutIndex = (ObjectNode) Json.MAPPER.readTree(oci.resolve("index.json").toFile());
        for (int i = 0; i < tags.size(); i++) {
            for (var e : layoutIndex.get("manifests")) {
                if (tags.get(i).equals(e.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                    ObjectNode d = ms.addObject();
                    d.put("mediaType", e.get("mediaType").asText());
                    d.put("digest", e.get("digest").asText());
                    d.put("size", e.get("size").asLong());
                    ObjectNode p = d.putObject("platform");
                    p.put("architecture", archs.get(i));
                    p.put("os", "linux");
                }
            }
        }
        byte[] bytes = Json.MAPPER.writeValueAsBytes(index);
        String digest = Digests.sha256(bytes);
        Files.write(oci.resolve("blobs/sha256").resolve(Digests.hex(digest)), bytes);
        ObjectNode entry = ((ArrayNode) layoutIndex.get("manifests")).addObject();
        entry.put("mediaType", "application/vnd.oci.image.index.v1+json");
        entry.put("digest", digest);
        entry.put("size", bytes.length);
        entry.putObject("annotations").put("org.opencontainers.image.ref.name", name);
        Files.write(oci.resolve("index.json"), Json.MAPPER.writeValueAsBytes(layoutIndex));
    }

    private static void writeRandom(Path p, int size) throws IOException {
        byte[] b = new byte[size];
        synchronized (RANDOM) {
            RANDOM.nextBytes(b);
        }
        // half compressible, as real binaries are
        Arrays.fill(b, size / 2, size / 2 + size / 4, (byte) 'x');
        Files.write(p, b);
    }

    // ---------------------------------------------------------------------------------------------- using

    /** Pushes a tag of a layout to a registry with skopeo; {@code extra} are more skopeo flags. */
    static void push(Path layout, String tag, RegistryServer reg, String repoTag, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "-q", "--dest-tls-verify=false"));
        cmd.addAll(Arrays.asList(extra));
        cmd.add("oci:" + layout + ":" + tag);
        cmd.add("docker://" + reg.host() + "/" + repoTag);
        run(cmd.toArray(String[]::new));
    }

    /** The source image unpacked by umoci (whiteouts applied), the reference tree users trust. */
    static Path umociUnpack(String ociRef, Path work) throws IOException {
        Path bundle = Files.createTempDirectory(work, "umoci-");
        Files.delete(bundle);
        run("umoci", "unpack", "--image", ociRef.substring("oci:".length()), bundle.toString());
        return bundle.resolve("rootfs");
    }

    /**
     * A nydus image in an OCI layout unpacked through the library: bootstrap layer → {@link RafsSuper} →
     * {@link Unpacker} (chunks read from the layout's blobs and verified) → tar → GNU tar into a directory.
     */
    static Path nydusUnpack(Path layout, String tag, Path work) throws IOException {
        OciLayout l = OciLayout.open(layout);
        var m = l.manifest(tag);
        ImageManifest man = ImageManifest.parse(m.bytes(), "manifest");
        if (PlatformFilter.isIndex(m)) {
            var idx = io.nydus.nydusify.oci.ImageIndex.parse(m.bytes(), "index");
            var nydus = new PlatformFilter(List.of(io.nydus.nydusify.oci.Platform.parse("linux/amd64")), false)
                    .select(idx, true);
            man = ImageManifest.parse(l.manifest(nydus.get(0).digest).bytes(), "manifest");
        }
        Path boot = Files.createTempFile(work, "boot-", "");
        try (InputStream in = l.openBlob(man.bootstrapLayer())) {
            BootstrapLayer.read(in, boot, "bootstrap layer");
        }
        Path tar = work.resolve("nydus-" + System.nanoTime() + ".tar");
        try (RafsSuper sb = RafsSuper.open(boot)) {
            Unpacker.unpack(sb, null, layout.resolve("blobs/sha256"), tar);
        }
        Path dir = Files.createTempDirectory(work, "nydus-rootfs-");
        run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tar.toString(), "-C", dir.toString());
        Files.delete(tar);
        return dir;
    }

    /** Fails with the differences when the two trees differ (TreeManifest: lstat + getfattr). */
    static void assertSameTree(Path expected, Path actual) throws IOException {
        TreeManifest.assertSame(expected, actual, TreeManifest.Options.DEFAULT);
    }

    /** Runs a command; fails with its output when it exits non-zero. */
    static String run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }

    /** Runs a command and returns its exit code and output. */
    static Result exec(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new Result(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    record Result(int code, String output) {
    }
}
