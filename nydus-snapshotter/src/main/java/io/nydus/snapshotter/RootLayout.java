package io.nydus.snapshotter;

import java.nio.file.Path;

/**
 * Where things live under {@code --root}, as upstream lays them out: {@code snapshots/<id>/{fs,work,mnt}} (the
 * first two as containerd's overlayfs snapshotter has them), {@code socket/<daemon>/api.sock},
 * {@code config/<daemon>/config.json}, {@code logs/<daemon>/nydusd.log}, the default blob cache {@code cache/}
 * ({@link SnapshotterConfig#cacheDirectory()}) and the shared daemon's mountpoint {@code mnt/}.
 */
public record RootLayout(Path root) {
    public RootLayout {
        root = root.toAbsolutePath().normalize();
    }

    public Path snapshots() {
        return root.resolve("snapshots");
    }

    public Path snapshotDir(long id) {
        return snapshots().resolve(Long.toString(id));
    }

    /** The layer's content: containerd unpacks into it; the upperdir of an active snapshot. */
    public Path fs(long id) {
        return snapshotDir(id).resolve("fs");
    }

    public Path work(long id) {
        return snapshotDir(id).resolve("work");
    }

    /** Mountpoint of a dedicated nydusd serving the image whose bootstrap layer is snapshot {@code id}. */
    public Path mnt(long id) {
        return snapshotDir(id).resolve("mnt");
    }

    public Path socketDir(String daemonId) {
        return root.resolve("socket").resolve(daemonId);
    }

    public Path configDir(String daemonId) {
        return root.resolve("config").resolve(daemonId);
    }

    public Path logDir(String daemonId) {
        return root.resolve("logs").resolve(daemonId);
    }

    public Path sharedMountpoint() {
        return root.resolve("mnt");
    }
}
