package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * containerd's snapshotter operations over {@link SnapshotStore} and the directories under {@code --root}, with
 * the semantics of containerd's overlayfs snapshotter, plus the nydus decisions of {@link LayerLabels}: nydus data
 * layers become empty committed snapshots, and a rootfs over a nydus bootstrap layer is an overlay on the nydusd
 * mountpoint.
 */
public final class Snapshotter implements AutoCloseable {
    private static final String NEW_DIR_PREFIX = "new-";

    private final SnapshotStore store;
    private final RootLayout layout;
    private final OverlayMounts overlays;
    private final RemoteFilesystem nydus;

    /** @param nydus null when no daemon may be started (daemon mode {@code none}) */
    public Snapshotter(SnapshotStore store, RootLayout layout, OverlayMounts overlays, RemoteFilesystem nydus)
            throws IOException {
        this.store = store;
        this.layout = layout;
        this.overlays = overlays;
        this.nydus = nydus;
        Files.createDirectories(layout.snapshots());
    }

    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return create(Kind.ACTIVE, key, parent, labels);
    }

    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return create(Kind.VIEW, key, parent, labels);
    }

    private List<Mount> create(Kind kind, String key, String parent, Map<String, String> labels) {
        List<Snapshot> parents = store.read(tx -> {
            if (parent.isEmpty()) {
                return List.<Snapshot>of();
            }
            Snapshot p = tx.find(parent).orElseThrow(() -> SnapshotException.notFound("missing parent \"" + parent + "\""));
            List<Snapshot> chain = new ArrayList<>();
            chain.add(p);
            chain.addAll(tx.parents(p));
            return chain;
        });
        LayerLabels.Action action = LayerLabels.decide(labels, parents, nydus != null);
        Log.debug("%s %s parent=%s action=%s labels=%s", kind.word(), key, parent, action, labels);
        if (action == LayerLabels.Action.SKIP_REMOTE_LAYER && kind == Kind.ACTIVE) {
            commitRemoteLayer(key, parent, labels);
        }
        Snapshot s = withChain(createWithDirs(kind, key, parent, labels), parents);
        if (action != LayerLabels.Action.MOUNT_NYDUS) {
            return overlays.of(s);
        }
        Snapshot meta = LayerLabels.nearestMetaLayer(parents).orElseThrow();
        try {
            return overlays.remote(s, nydus.mount(meta));
        } catch (RuntimeException e) {
            // The rootfs is useless without its lower layer: leave no half-made snapshot behind.
            try {
                remove(key);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * A nydus data layer is never downloaded: commit an empty snapshot under the target name (carrying the
     * labels, so containerd's lookup by {@code containerd.io/snapshot.ref} and parent finds it) and answer
     * AlreadyExists, which tells containerd the layer is in place.
     */
    private void commitRemoteLayer(String key, String parent, Map<String, String> labels) {
        String target = LayerLabels.target(labels).orElseThrow();
        Path tmp = newTempDir(false);
        boolean created = store.write(tx -> {
            if (tx.find(target).isPresent()) {
                return false;
            }
            Snapshot active = tx.create(Kind.ACTIVE, key, parent, labels);
            tx.commit(key, target, labels, 0, 0);
            placeDir(tmp, active.id());
            return true;
        });
        if (!created) {
            deleteQuietly(tmp);
        }
        Log.debug("remote layer %s committed as %s", key, target);
        throw SnapshotException.alreadyExists("target snapshot \"" + target + "\" from snapshotter already exists");
    }

    /** Makes {@code snapshots/<id>/{fs,work}} in a temporary directory, then records and renames it atomically. */
    private Snapshot createWithDirs(Kind kind, String key, String parent, Map<String, String> labels) {
        Path tmp = newTempDir(kind == Kind.ACTIVE);
        try {
            return store.write(tx -> {
                Snapshot s = tx.create(kind, key, parent, labels);
                placeDir(tmp, s.id());
                return s;
            });
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    private Path newTempDir(boolean withWork) {
        Path tmp = layout.snapshots().resolve(NEW_DIR_PREFIX + UUID.randomUUID());
        try {
            Files.createDirectories(tmp.resolve("fs"));
            if (withWork) {
                Files.createDirectories(tmp.resolve("work"));
            }
            // containerd's overlayfs snapshotter: layer roots are 0755 so unprivileged processes can traverse.
            Files.setPosixFilePermissions(tmp.resolve("fs"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new SnapshotException(SnapshotException.Code.INTERNAL, "create " + tmp + ": " + e.getMessage(), e);
        }
        return tmp;
    }

    /** Moves a prepared directory to {@code snapshots/<id>}; a leftover of a crashed attempt at that id goes first. */
    private void placeDir(Path tmp, long id) {
        Path dir = layout.snapshotDir(id);
        try {
            if (Files.exists(dir) && !FileTree.delete(dir)) {
                throw new IOException(dir + " is still mounted");
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Code.INTERNAL, "rename " + tmp + " to " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    public List<Mount> mounts(String key) {
        List<Snapshot> chain = store.read(tx -> {
            Snapshot found = tx.get(key);
            List<Snapshot> c = new ArrayList<>();
            c.add(found);
            c.addAll(tx.parents(found));
            if (found.kind() != Kind.ACTIVE && found.kind() != Kind.VIEW) {
                throw SnapshotException.failedPrecondition("requested snapshot " + key + " not active or view");
            }
            return c;
        });
        List<Snapshot> parents = chain.subList(1, chain.size());
        Snapshot s = withChain(chain.get(0), parents);
        if (nydus != null && LayerLabels.target(s.labels()).isEmpty()) {
            var meta = LayerLabels.nearestMetaLayer(parents);
            if (meta.isPresent()) {
                return overlays.remote(s, nydus.mount(meta.get()));
            }
        }
        return overlays.of(s);
    }

    /** {@code s} carrying the ids of {@code parents}, its parent chain nearest first, for its mounts. */
    private static Snapshot withChain(Snapshot s, List<Snapshot> parents) {
        return s.withParentIds(parents.stream().map(Snapshot::id).toList());
    }

    public void commit(String name, String key, Map<String, String> labels) {
        Snapshot active = store.read(tx -> tx.get(key));
        if (active.kind() != Kind.ACTIVE) {
            throw SnapshotException.failedPrecondition("snapshot \"" + key + "\" is not active");
        }
        FileTree.Usage usage = FileTree.usage(layout.fs(active.id()));
        store.write(tx -> tx.commit(key, name, labels, usage.size(), usage.inodes()));
        Log.debug("committed %s as %s (%d bytes, %d inodes)", key, name, usage.size(), usage.inodes());
    }

    public void remove(String key) {
        Snapshot removed = store.write(tx -> tx.remove(key));
        if (nydus != null && removed.kind() == Kind.COMMITTED && LayerLabels.isNydusMetaLayer(removed.labels())) {
            nydus.umount(removed.id());
        }
        // Like containerd: once the record is gone the removal has happened; a directory that cannot be
        // deleted now is an orphan for Cleanup.
        deleteQuietly(layout.snapshotDir(removed.id()));
        Log.debug("removed %s (id %d)", key, removed.id());
    }

    public Snapshot stat(String key) {
        return store.read(tx -> tx.get(key));
    }

    public Snapshot update(String name, Map<String, String> labels, List<String> paths) {
        return store.write(tx -> tx.updateLabels(name, labels, paths));
    }

    /** Live disk usage of an active snapshot's layer; the usage recorded at commit otherwise. */
    public FileTree.Usage usage(String key) {
        Snapshot s = store.read(tx -> tx.get(key));
        if (s.kind() == Kind.ACTIVE) {
            return FileTree.usage(layout.fs(s.id()));
        }
        return new FileTree.Usage(s.size(), s.inodes());
    }

    public List<Snapshot> list(List<String> filters) {
        Predicate<Snapshot> match = Filter.anyOf(filters);
        return store.read(tx -> tx.all().stream().filter(match).toList());
    }

    /** Removes directories under {@code snapshots/} that no snapshot record owns (leftovers of crashes). */
    public void cleanup() {
        List<Path> orphans = store.read(tx -> {
            Set<String> ids = new HashSet<>();
            for (Snapshot s : tx.all()) {
                ids.add(Long.toString(s.id()));
            }
            List<Path> found = new ArrayList<>();
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(layout.snapshots())) {
                for (Path d : dirs) {
                    String n = d.getFileName().toString();
                    // new-* directories belong to a create in flight only while the store lock is held.
                    if (!ids.contains(n)) {
                        found.add(d);
                    }
                }
            } catch (IOException e) {
                throw new SnapshotException(SnapshotException.Code.INTERNAL, "list " + layout.snapshots(), e);
            }
            return found;
        });
        for (Path d : orphans) {
            if (d.getFileName().toString().startsWith(NEW_DIR_PREFIX) && isRecent(d)) {
                continue;
            }
            deleteQuietly(d);
        }
    }

    private static boolean isRecent(Path d) {
        try {
            return Files.getLastModifiedTime(d).toMillis() > System.currentTimeMillis() - 60_000;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            if (!FileTree.delete(dir)) {
                Log.warn("left %s in place: something below it is still mounted", dir);
            }
        } catch (IOException e) {
            Log.warn("cannot remove %s: %s", dir, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (nydus != null) {
            nydus.close();
        }
        store.close();
    }
}
