package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small real image built without Docker (real-components.md): layer 1 is a static busybox rootfs with a few
 * data files; layer 2, a hand-made tar, adds files, deletes {@code /etc/base.txt} (a file whiteout) and the
 * directory {@code /data/gone} (a directory whiteout), makes {@code /data/sub} opaque, and writes
 * {@code /etc/served-by} = the image's repository name (to tell images apart). What a container of it must see:
 * {@code /etc/greeting} = hello, no {@code /etc/base.txt} nor {@code /data/gone}, {@code /data/sub} holding only
 * {@code new}, {@code /data/keep} = keep.
 */
final class BusyboxImage {
    private BusyboxImage() {
    }

    /** The shell command a test container runs, and what it must print for this image. */
    static final String SHOW = "cat /etc/greeting /data/keep; ls /data/sub; test -e /etc/base.txt && echo base-present; "
            + "test -e /data/gone && echo gone-present; echo done";
    static final String EXPECTED = "hello\nkeep\nnew\ndone\n";

    /** A busybox rootfs (2 MB) under {@code dir}: every applet linked, /tmp, and the data files of layer 1. */
    static Path rootfs(Path dir) throws IOException {
        Path r = dir.resolve("rootfs");
        for (String d : new String[] {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "proc", "sys", "dev",
            "data/sub", "data/gone"}) {
            Files.createDirectories(r.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), r.resolve("bin/busybox"));
        Cmd.run("chroot", r.toString(), "/bin/busybox", "--install", "-s");
        Files.writeString(r.resolve("etc/base.txt"), "base\n");
        Files.writeString(r.resolve("data/keep"), "keep\n");
        Files.writeString(r.resolve("data/sub/old"), "old\n");
        Files.writeString(r.resolve("data/gone/file"), "gone\n");
        return r;
    }

    /** Builds the image with umoci and pushes it to {@code registryHost/name:v1}; returns the reference. */
    static String push(Path dir, String registryHost, String name) throws IOException {
        return push(dir, registryHost, name, null);
    }

    /** {@link #push(Path, String, String)} to a registry that wants {@code user:password} ({@code creds}). */
    static String push(Path dir, String registryHost, String name, String creds) throws IOException {
        Files.createDirectories(dir);
        Path rootfs = rootfs(dir);
        Path oci = dir.resolve("oci");
        Path bundle = dir.resolve("bundle");
        Cmd.run("umoci", "init", "--layout", oci.toString());
        Cmd.run("umoci", "new", "--image", oci + ":img");
        Cmd.run("umoci", "unpack", "--image", oci + ":img", bundle.toString());
        Cmd.run("rm", "-rf", bundle.resolve("rootfs").toString());
        Cmd.run("cp", "-a", rootfs.toString(), bundle.resolve("rootfs").toString());
        Cmd.run("umoci", "repack", "--image", oci + ":img", bundle.toString());
        Cmd.run("umoci", "config", "--image", oci + ":img", "--config.cmd", "/bin/sh");
        Path l2 = dir.resolve("layer2");
        Files.createDirectories(l2.resolve("etc"));
        Files.createDirectories(l2.resolve("data/sub"));
        Files.writeString(l2.resolve("etc/greeting"), "hello\n");
        Files.writeString(l2.resolve("etc/served-by"), name + "\n");
        Files.createFile(l2.resolve("etc/.wh.base.txt"));
        Files.createFile(l2.resolve("data/sub/.wh..wh..opq"));
        Files.createFile(l2.resolve("data/.wh.gone"));
        Files.writeString(l2.resolve("data/sub/new"), "new\n");
        Path tar = dir.resolve("layer2.tar");
        Cmd.run("tar", "-C", l2.toString(), "-cf", tar.toString(), "etc", "data");
        Cmd.run("umoci", "raw", "add-layer", "--image", oci + ":img", "--tag", "img2", tar.toString());
        String ref = registryHost + "/" + name + ":v1";
        if (creds == null) {
            Cmd.run("skopeo", "copy", "--dest-tls-verify=false", "oci:" + oci + ":img2", "docker://" + ref);
        } else {
            Cmd.run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", creds, "oci:" + oci + ":img2",
                    "docker://" + ref);
        }
        return ref;
    }
}
