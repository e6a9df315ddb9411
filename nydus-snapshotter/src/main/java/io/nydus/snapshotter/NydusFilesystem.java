package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * nydus images mounted by nydusd (upstream {@code pkg/filesystem} + {@code pkg/manager}). Dedicated mode: one
 * {@code nydusd fuse --mountpoint <root>/snapshots/<id>/mnt --bootstrap …} per image, keyed by the bootstrap
 * layer's snapshot id. Shared mode: one {@code nydusd fuse --mountpoint <root>/mnt} into which each image is
 * mounted through {@code POST /api/v1/mount?mountpoint=/<id>}. Daemon records live in the store, so after a
 * snapshotter restart the daemons still running are adopted; a daemon that dies is restarted and its images
 * mounted again unless {@code recover_policy = "none"}.
 */
public final class NydusFilesystem implements RemoteFilesystem {
    static final String SHARED_ID = "shared";

    /** Everything the filesystem needs from the snapshotter's configuration. */
    public record Settings(String nydusdPath, SnapshotterConfig.DaemonMode mode,
            SnapshotterConfig.RecoverPolicy recoverPolicy, NydusdConfigTemplate template, Path cacheDir,
            RegistryCredentials credentials, String logLevel, int threads, Duration startTimeout,
            Duration monitorInterval) {
    }

    private final Settings settings;
    private final RootLayout layout;
    private final SnapshotStore store;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, NydusdProcess> daemons = new LinkedHashMap<>();
    private final Map<String, Retry> retries = new java.util.HashMap<>();
    /** recover_policy failover: each daemon's supervisor, keeping its FUSE device for a successor. */
    private final Map<String, Supervisor> supervisors = new java.util.HashMap<>();
    private final ScheduledExecutorService monitor;
    private volatile boolean closed;

    public NydusFilesystem(Settings settings, RootLayout layout, SnapshotStore store) {
        this.settings = settings;
        this.layout = layout;
        this.store = store;
        recover();
        this.monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nydusd-monitor");
            t.setDaemon(true);
            return t;
        });
        long ms = settings.monitorInterval().toMillis();
        monitor.scheduleWithFixedDelay(this::checkDaemons, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public Path mount(Snapshot meta) {
        lock.lock();
        try {
            for (NydusdProcess d : daemons.values()) {
                for (NydusdRecord.RafsInstance i : d.record().instances()) {
                    if (i.snapshotId() == meta.id()) {
                        if (!d.alive()) {
                            revive(d);
                        }
                        return Path.of(i.mountpoint());
                    }
                }
            }
            return settings.mode() == SnapshotterConfig.DaemonMode.SHARED ? mountShared(meta) : mountDedicated(meta);
        } finally {
            lock.unlock();
        }
    }

    /** The RAFS bootstrap the bootstrap layer unpacked to: {@code image/image.boot}, or legacy {@code image.boot}. */
    public static Optional<Path> bootstrapOf(Path layerFs) {
        for (Path p : List.of(layerFs.resolve("image").resolve("image.boot"), layerFs.resolve("image.boot"))) {
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private Path bootstrap(Snapshot meta) {
        return bootstrapOf(layout.fs(meta.id())).orElseThrow(() -> SnapshotException.failedPrecondition(
                "nydus bootstrap layer " + meta.name() + " has no image/image.boot under " + layout.fs(meta.id())));
    }

    /** Renders and writes (mode 0600: it may hold credentials) the nydusd config of the image of {@code meta}. */
    private String writeConfig(Snapshot meta, Path file) {
        ImageReference image = null;
        Optional<RegistryCredentials.Credential> auth = Optional.empty();
        if (settings.template().backendType().equals("registry")) {
            image = LayerLabels.imageReference(meta).orElseThrow(() -> SnapshotException.failedPrecondition(
                    "cannot tell which image nydus bootstrap layer " + meta.name() + " belongs to: no "
                            + LayerLabels.CRI_IMAGE_REF + " label (pull with a client that sets it)"));
            auth = settings.credentials().find(image.host(), meta.labels());
        }
        String json = settings.template().render(image, Long.toString(meta.id()), settings.cacheDir(), auth);
        try {
            Files.createDirectories(file.getParent());
            Files.createDirectories(settings.cacheDir());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, json);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw internal("write nydusd config " + file, e);
        }
        return json;
    }

    private Path mountDedicated(Snapshot meta) {
        String id = "nydusd-" + meta.id();
        Path boot = bootstrap(meta);
        Path mp = layout.mnt(meta.id());
        Path config = layout.configDir(id).resolve("config.json");
        writeConfig(meta, config);
        List<String> cmd = new ArrayList<>(List.of(settings.nydusdPath(), "fuse", "--mountpoint", mp.toString(),
                "--config", config.toString(), "--bootstrap", boot.toString(),
                "--apisock", layout.socketDir(id).resolve("api.sock").toString(),
                "--log-level", settings.logLevel()));
        threads(cmd);
        supervised(cmd, id);
        NydusdRecord record = new NydusdRecord(id, false, mp.toString(),
                layout.socketDir(id).resolve("api.sock").toString(),
                layout.logDir(id).resolve("nydusd.log").toString(), cmd, 0, 0,
                List.of(new NydusdRecord.RafsInstance(meta.id(), mp.toString(), "", boot.toString(), config.toString())));
        NydusdProcess d = start(record);
        Log.info("nydusd %s (pid %d) serves %s at %s", id, d.record().pid(), meta.name(), mp);
        return mp;
    }

    private Path mountShared(Snapshot meta) {
        NydusdProcess d = daemons.get(SHARED_ID);
        if (d == null) {
            d = startShared();
        } else if (!d.alive()) {
            d = revive(d);
        }
        Path boot = bootstrap(meta);
        String apiMp = "/" + meta.id();
        Path mp = Path.of(d.record().mountpoint()).resolve(Long.toString(meta.id()));
        Path config = layout.configDir(SHARED_ID).resolve(Long.toString(meta.id())).resolve("config.json");
        String json = writeConfig(meta, config);
        NydusdRecord.RafsInstance inst = new NydusdRecord.RafsInstance(meta.id(), mp.toString(), apiMp,
                boot.toString(), config.toString());
        try {
            d.client().mount(apiMp, boot.toString(), json);
            d.awaitRunning(settings.startTimeout());
        } catch (IOException e) {
            throw unavailable("mount " + meta.name() + " in the shared nydusd", e);
        }
        NydusdProcess updated = d.with(d.record().withInstance(inst));
        daemons.put(SHARED_ID, updated);
        persist(updated.record());
        supervise(updated); // the state a successor gets must list this image too
        Log.info("shared nydusd serves %s at %s", meta.name(), mp);
        return mp;
    }

    private NydusdProcess startShared() {
        Path mp = layout.sharedMountpoint();
        Path sock = layout.socketDir(SHARED_ID).resolve("api.sock");
        List<String> cmd = new ArrayList<>(List.of(settings.nydusdPath(), "fuse", "--mountpoint", mp.toString(),
                "--apisock", sock.toString(), "--log-level", settings.logLevel()));
        threads(cmd);
        supervised(cmd, SHARED_ID);
        NydusdRecord record = new NydusdRecord(SHARED_ID, true, mp.toString(), sock.toString(),
                layout.logDir(SHARED_ID).resolve("nydusd.log").toString(), cmd, 0, 0, List.of());
        NydusdProcess d = start(record);
        Log.info("shared nydusd (pid %d) started at %s", d.record().pid(), mp);
        return d;
    }

    private void threads(List<String> cmd) {
        if (settings.threads() > 0) {
            cmd.add("--thread-num");
            cmd.add(Integer.toString(settings.threads()));
        }
    }

    /** With recover_policy failover, the daemon reports to a supervisor socket of its own. */
    private void supervised(List<String> cmd, String id) {
        if (settings.recoverPolicy() == SnapshotterConfig.RecoverPolicy.FAILOVER) {
            cmd.addAll(List.of("--supervisor", layout.socketDir(id).resolve("supervisor.sock").toString(), "--id", id));
        }
    }

    /**
     * Has a running daemon that reports to a supervisor hand its FUSE device and state over ({@code sendfd}), so
     * that a successor can take its mount over should it die; again whenever its images change, so the state
     * lists them. Best effort: without it a dead daemon is restarted.
     */
    private void supervise(NydusdProcess d) {
        int at = d.record().command().indexOf("--supervisor");
        if (settings.recoverPolicy() != SnapshotterConfig.RecoverPolicy.FAILOVER || at < 0
                || at + 1 >= d.record().command().size()) {
            return;
        }
        String id = d.record().id();
        try {
            Supervisor s = supervisors.get(id);
            if (s == null) {
                s = Supervisor.open(Path.of(d.record().command().get(at + 1)));
                supervisors.put(id, s);
            }
            long before = s.received();
            NydusdClient.Response r = d.client().request("PUT", "/api/v1/daemon/fuse/sendfd", null);
            if (!r.ok() || !s.awaitReceived(before, settings.startTimeout())) {
                Log.warn("nydusd %s did not hand its FUSE device over (HTTP %d %s)", id, r.status(), r.body());
            }
        } catch (IOException e) {
            Log.warn("nydusd %s: no failover: %s", id, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeSupervisor(String id) {
        Supervisor s = supervisors.remove(id);
        if (s != null) {
            s.close();
        }
    }

    /**
     * recover_policy failover: a successor started with {@code --upgrade} takes the dead daemon's mount over
     * from its supervisor (the mount never went away: containers reading through it only waited).
     */
    private NydusdProcess takeOver(NydusdProcess dead, Supervisor s) throws IOException {
        NydusdRecord r = dead.record();
        NydusdProcess d = NydusdProcess.spawn(r, List.of("--upgrade"));
        daemons.put(r.id(), d);
        persist(d.record());
        try {
            d.awaitState("INIT", settings.startTimeout());
            s.giveNext();
            NydusdClient.Response t = d.client().request("PUT", "/api/v1/daemon/fuse/takeover", null);
            if (!t.ok()) {
                throw new IOException("takeover: HTTP " + t.status() + " " + t.body());
            }
            NydusdClient.Response st = d.client().request("PUT", "/api/v1/daemon/start", null);
            if (!st.ok()) {
                throw new IOException("start: HTTP " + st.status() + " " + st.body());
            }
            d.awaitRunning(settings.startTimeout());
        } catch (IOException e) {
            d.stop(Duration.ofSeconds(2));
            throw e;
        }
        supervise(d);
        Log.info("nydusd %s took over the mount of pid %d (pid %d)", r.id(), r.pid(), d.record().pid());
        return d;
    }

    /**
     * Starts a new daemon: creates its mountpoint, then {@link #spawn}s it and awaits RUNNING; a daemon that does
     * not get there is stopped, unmounted and forgotten.
     */
    private NydusdProcess start(NydusdRecord record) {
        Path mp = Path.of(record.mountpoint());
        try {
            Files.createDirectories(mp);
        } catch (IOException e) {
            throw internal("create " + mp, e);
        }
        NydusdProcess d = spawn(record, "start");
        try {
            d.awaitRunning(settings.startTimeout());
            supervise(d);
        } catch (IOException e) {
            d.stop(Duration.ofSeconds(2));
            MountTable.unmountAll(mp);
            daemons.remove(record.id());
            store.write(tx -> {
                tx.removeDaemon(record.id());
                return null;
            });
            throw unavailable("start nydusd " + record.id(), e);
        }
        return d;
    }

    /**
     * Detaches stale mounts from the mountpoint, spawns {@code record.command()} and records the process (before
     * waiting for it, so a crash now still leaves a record to recover); {@code verb} names the attempt in errors.
     */
    private NydusdProcess spawn(NydusdRecord record, String verb) {
        MountTable.unmountAll(Path.of(record.mountpoint()));
        NydusdProcess d;
        try {
            d = NydusdProcess.spawn(record);
        } catch (IOException e) {
            throw unavailable(verb + " nydusd " + record.id(), e);
        }
        daemons.put(record.id(), d);
        persist(d.record());
        return d;
    }

    /**
     * Starts a dead daemon again with its recorded command line: stale mounts are detached first, and a shared
     * daemon gets its images mounted again through its API.
     */
    private NydusdProcess revive(NydusdProcess dead) {
        NydusdRecord r = dead.record();
        if (settings.recoverPolicy() == SnapshotterConfig.RecoverPolicy.NONE) {
            throw new SnapshotException(SnapshotException.Code.UNAVAILABLE, "nydusd " + r.id()
                    + " is not running and recover_policy is none");
        }
        Supervisor s = supervisors.get(r.id());
        if (settings.recoverPolicy() == SnapshotterConfig.RecoverPolicy.FAILOVER && s != null && s.holds()) {
            try {
                return takeOver(dead, s);
            } catch (IOException | RuntimeException e) {
                Log.warn("nydusd %s: takeover failed (%s); restarting it", r.id(), e.getMessage());
                closeSupervisor(r.id());
            }
        }
        NydusdProcess d = spawn(r, "restart");
        try {
            d.awaitRunning(settings.startTimeout());
            if (r.shared()) {
                for (NydusdRecord.RafsInstance i : r.instances()) {
                    d.client().mount(i.apiMountpoint(), i.bootstrap(), Files.readString(Path.of(i.configFile())));
                }
                d.awaitRunning(settings.startTimeout());
            }
            supervise(d); // after the images are back: the state it hands over lists them
        } catch (IOException e) {
            d.stop(Duration.ofSeconds(2));
            throw unavailable("restart nydusd " + r.id(), e);
        }
        Log.info("nydusd %s restarted (pid %d), %d image(s) mounted again", r.id(), d.record().pid(),
                r.instances().size());
        return d;
    }

    @Override
    public void umount(long metaId) {
        lock.lock();
        try {
            for (NydusdProcess d : new ArrayList<>(daemons.values())) {
                for (NydusdRecord.RafsInstance i : d.record().instances()) {
                    if (i.snapshotId() != metaId) {
                        continue;
                    }
                    if (d.record().shared()) {
                        if (d.alive()) {
                            try {
                                d.client().umount(i.apiMountpoint());
                            } catch (IOException e) {
                                Log.warn("%s", e.getMessage());
                            }
                        }
                        MountTable.unmountAll(Path.of(i.mountpoint()));
                        NydusdProcess updated = d.with(d.record().withoutInstance(metaId));
                        daemons.put(d.record().id(), updated);
                        persist(updated.record());
                        supervise(updated);
                        deleteQuietly(Path.of(i.configFile()).getParent());
                    } else {
                        closeSupervisor(d.record().id());
                        d.stop(Duration.ofSeconds(5));
                        MountTable.unmountAll(Path.of(d.record().mountpoint()));
                        daemons.remove(d.record().id());
                        store.write(tx -> {
                            tx.removeDaemon(d.record().id());
                            return null;
                        });
                        deleteQuietly(layout.configDir(d.record().id()));
                        deleteQuietly(layout.socketDir(d.record().id()));
                        Log.info("nydusd %s stopped", d.record().id());
                    }
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adopts the daemons recorded by an earlier run; restarts those that died, per the recover policy. Images
     * whose bootstrap snapshot is gone (the snapshotter died between removing it and stopping its daemon) are
     * unmounted and forgotten.
     */
    private void recover() {
        Map<String, String> records = store.read(SnapshotStore.Tx::daemons);
        java.util.Set<Long> ids = new java.util.HashSet<>();
        store.read(tx -> tx.all()).forEach(s -> ids.add(s.id()));
        for (Map.Entry<String, String> e : records.entrySet()) {
            NydusdRecord r;
            try {
                r = NydusdRecord.fromJson(e.getValue());
            } catch (IllegalArgumentException ex) {
                Log.warn("dropping daemon record %s: %s", e.getKey(), ex.getMessage());
                store.write(tx -> {
                    tx.removeDaemon(e.getKey());
                    return null;
                });
                continue;
            }
            NydusdProcess d = NydusdProcess.adopt(r);
            List<NydusdRecord.RafsInstance> stale = r.instances().stream()
                    .filter(i -> !ids.contains(i.snapshotId())).toList();
            if (!stale.isEmpty()) {
                daemons.put(r.id(), d);
                for (NydusdRecord.RafsInstance i : stale) {
                    Log.info("nydusd %s served removed snapshot %d: unmounting it", r.id(), i.snapshotId());
                    umount(i.snapshotId());
                }
                if (!daemons.containsKey(r.id())) {
                    continue;
                }
                d = daemons.get(r.id());
                r = d.record();
            }
            if (d.alive()) {
                try {
                    d.awaitRunning(settings.startTimeout());
                    daemons.put(r.id(), d);
                    supervise(d);
                    Log.info("adopted nydusd %s (pid %d)", r.id(), r.pid());
                    continue;
                } catch (IOException ex) {
                    Log.warn("nydusd %s (pid %d) is alive but not serving: %s", r.id(), r.pid(), ex.getMessage());
                    d.stop(Duration.ofSeconds(2));
                }
            }
            daemons.put(r.id(), d);
            if (settings.recoverPolicy() != SnapshotterConfig.RecoverPolicy.NONE) {
                try {
                    revive(d);
                } catch (RuntimeException ex) {
                    Log.error("cannot recover nydusd %s: %s", r.id(), ex.getMessage());
                }
            }
        }
    }

    /**
     * The liveness monitor: a daemon that died is restarted (recover_policy restart or failover). A daemon that
     * cannot be restarted is tried again with a doubling delay (up to a minute) rather than every round.
     */
    private void checkDaemons() {
        if (closed || settings.recoverPolicy() == SnapshotterConfig.RecoverPolicy.NONE) {
            return;
        }
        if (!lock.tryLock()) {
            return; // a mount or restart is in progress; look again next round
        }
        try {
            long now = System.nanoTime();
            for (NydusdProcess d : new ArrayList<>(daemons.values())) {
                String id = d.record().id();
                if (closed || d.alive()) {
                    retries.remove(id);
                    continue;
                }
                Retry retry = retries.get(id);
                if (retry != null && now < retry.next()) {
                    continue;
                }
                Log.warn("nydusd %s (pid %d) died; restarting it", id, d.record().pid());
                try {
                    revive(d);
                    retries.remove(id);
                } catch (RuntimeException e) {
                    long delay = retry == null ? 1_000 : Math.min(60_000, retry.delayMillis() * 2);
                    retries.put(id, new Retry(now + delay * 1_000_000, delay));
                    Log.error("%s (next attempt in %d s)", e.getMessage(), delay / 1000);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private record Retry(long next, long delayMillis) {
    }

    /** Daemons currently known, for tests and diagnostics. */
    public List<NydusdRecord> records() {
        lock.lock();
        try {
            return daemons.values().stream().map(NydusdProcess::record).toList();
        } finally {
            lock.unlock();
        }
    }

    private void persist(NydusdRecord r) {
        store.write(tx -> {
            tx.putDaemon(r.id(), r.toJson());
            return null;
        });
    }

    /** Leaves the daemons running: a restarted snapshotter adopts them (upstream cleanup_on_close = false). */
    @Override
    public void close() {
        closed = true;
        monitor.shutdownNow();
        try {
            monitor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            supervisors.values().forEach(Supervisor::close); // the daemons keep running; a successor adopts them
            supervisors.clear();
        } finally {
            lock.unlock();
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            FileTree.delete(dir);
        } catch (IOException e) {
            Log.debug("cannot remove %s: %s", dir, e.getMessage());
        }
    }

    private static SnapshotException internal(String what, IOException e) {
        return new SnapshotException(SnapshotException.Code.INTERNAL, what + ": " + e.getMessage(), e);
    }

    private static SnapshotException unavailable(String what, IOException e) {
        return new SnapshotException(SnapshotException.Code.UNAVAILABLE, what + ": " + e.getMessage(), e);
    }
}
