package io.nydus.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.blobcache.BackendMetrics;
import io.nydus.blobcache.backend.RegistryBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;

/**
 * The running daemon: its state machine, the FUSE mounts, the images, and what the API asks of them.
 *
 * <p>Two modes, as upstream: {@link Mode#FUSE} serves one FUSE mountpoint whose root is an image (the
 * bootstrap on the command line, at virtual mountpoint "/") or a pseudo directory under which the API mounts
 * images at {@code /<id>} (the snapshotter's shared daemon); {@link Mode#SINGLETON} has no mount of its own and
 * gives every image mounted through the API its own FUSE mount at the host path named by {@code mountpoint}.
 */
public final class Daemon {
    /** How the daemon serves images. */
    public enum Mode { FUSE, SINGLETON }

    /** What {@code POST /api/v1/mount} carries. */
    public record MountCommand(String source, String fsType, String config, List<String> prefetchFiles) {
    }

    /** Command-line settings. */
    public record Settings(Mode mode, String id, String supervisor, Path apiSocket, Path mountpoint, int threads,
            String failoverPolicy, NydusdConfig config, Path bootstrap, String virtualMountpoint,
            List<String> prefetchFiles, boolean upgrade) {
    }

    /** Largest FUSE read (the kernel's limit): a default chunk in one request. */
    static final int MAX_READ = 1 << 20;
    /**
     * Readahead in reads of {@link #MAX_READ}: with one, a sequential reader waits for each request in turn;
     * with four in flight the read workers serve them in parallel (measured, 512 MiB file from the chunk cache,
     * page cache dropped: 0.54-0.79x the kernel's EROFS driver at 2 MiB readahead, 0.58-1.35x at 4 MiB).
     */
    static final int READS_IN_FLIGHT = 4;
    /** The kernel's default readahead, the least a mount gets. */
    static final int MIN_READ_AHEAD = 128 * 1024;
    static final String FS_NAME = "rafs";
    static final int DEFAULT_CHUNK = 1 << 20;
    static final int MAX_READ_AHEAD = 4 << 20;
    static final long UNMOUNT_WAIT_MILLIS = 5000;
    static final int WARMUP_ROUNDS = 8;
    /** Version of the state {@link #sendFuseFd} writes for a successor. */
    static final int TAKEOVER_STATE_VERSION = 1;
    static final String REGISTRY_AUTH = "registry_auth";
    static final String PROXY_URL = "proxy_url";
    /** Keys of {@code PUT /api/v1/config}, as upstream. */
    static final Set<String> RUNTIME_KEYS = Set.of(REGISTRY_AUTH, PROXY_URL, "dragonfly_scheduler_endpoint");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Settings settings;
    private final InflightOps inflight = new InflightOps();
    private final CountDownLatch exitRequested = new CountDownLatch(1);
    private volatile int exitCode;
    private volatile DaemonState state = DaemonState.INIT;
    private volatile boolean stopping;
    /** Images by mountpoint: virtual paths in FUSE mode, host paths in singleton mode. */
    private final Map<String, Mounted> mounts = new LinkedHashMap<>();
    /** Run-time settings ({@code PUT /api/v1/config}) by image id, "" for every image. */
    private final Map<String, Map<String, String>> runtime = new HashMap<>();
    /** Mountpoints with a mount request in progress. */
    private final Set<String> pending = new HashSet<>();
    private final Vfs vfs = new Vfs();
    /** Images mounted through the API in FUSE mode, as requested: a successor taking over mounts them again. */
    private final Map<String, MountCommand> apiMounts = new LinkedHashMap<>();
    private FuseSession session;
    private ApiServer api;

    /** An image and, in singleton mode, the FUSE mount that serves it alone. */
    private record Mounted(RafsImage image, FuseSession session) {
    }

    public Daemon(Settings settings) {
        this.settings = settings;
    }

    public DaemonState state() {
        return state;
    }

    // ------------------------------------------------------------------------------------------------- lifecycle

    /**
     * Brings the daemon up: the image of the command line is opened and the API socket bound before anything
     * is mounted, so a bad argument leaves no mount behind. Throws with a one-line message.
     */
    public void start() throws IOException {
        RafsImage initial = null;
        // Binding libfuse and generating the callback stubs takes a while: done beside the rest of the start.
        CompletableFuture<RafsFuse> fuseOps = settings.mode() == Mode.FUSE && !settings.upgrade()
                ? CompletableFuture.supplyAsync(this::newFilesystem, Daemon::startThread) : null;
        try {
            if (settings.mode() == Mode.FUSE && settings.bootstrap() != null && !settings.upgrade()) {
                initial = openImage(Vfs.normalize(settings.virtualMountpoint()), settings.bootstrap(),
                        settings.config(), settings.prefetchFiles());
                NydusdLog.debug("opened %s", settings.bootstrap());
            }
            if (settings.apiSocket() != null) {
                api = ApiServer.start(this, settings.apiSocket());
                NydusdLog.debug("API on %s", settings.apiSocket());
            }
            if (fuseOps != null) {
                mountFuse(initial, join(fuseOps));
                initial = null;
                state = DaemonState.READY;
                state = DaemonState.RUNNING;
            } else if (settings.mode() == Mode.SINGLETON) {
                state = DaemonState.READY;
                state = DaemonState.RUNNING;
            }
        } catch (IOException | RuntimeException e) {
            if (initial != null) {
                initial.close();
            }
            shutdown();
            throw e;
        }
    }

    private RafsFuse newFilesystem() {
        FuseLib.fuse();
        return new RafsFuse(vfs, inflight);
    }

    private static void startThread(Runnable r) {
        Thread t = new Thread(r, "start");
        t.setDaemon(true);
        t.start();
    }

    private static <T> T join(CompletableFuture<T> f) throws IOException {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof LinkageError err) {
                throw new IOException("cannot load libfuse 2 (package libfuse2): " + err.getMessage(), err);
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IOException(c.getMessage(), c);
        }
    }

    /** Mounts the daemon's FUSE mountpoint with {@code initial} (may be null) in its namespace. */
    private void mountFuse(RafsImage initial, RafsFuse fs) throws IOException {
        synchronized (this) {
            if (initial != null) {
                vfs.mount(initial.mountpoint(), initial);
                mounts.put(initial.mountpoint(), new Mounted(initial, null));
            }
        }
        session = FuseSession.mount(settings.mountpoint(), fs, fuseOptions(), settings.threads(), MAX_READ);
        FuseSession s = session;
        s.setReadAheadKib(readAheadKib(initial));
        exitWhenUnmounted(s);
        NydusdLog.info("serving %s on %s", initial == null ? "no image yet" : initial.bootstrap(), s.mountpoint());
        afterMount(fs, initial);
    }

    /** The daemon's own mount going away (an external unmount, an abort) ends the daemon. */
    private void exitWhenUnmounted(FuseSession s) {
        s.onEnd(() -> {
            if (!stopping) {
                NydusdLog.info("%s was unmounted; exiting", s.mountpoint());
                requestExit(0);
            }
        });
    }

    private static void afterMount(RafsFuse fs, RafsImage image) {
        Thread t = new Thread(() -> {
            try {
                if (image != null) {
                    image.warmDataPath();
                }
                fs.warmUp(WARMUP_ROUNDS);
            } catch (Throwable e) {
                NydusdLog.debug("warm-up: %s", e);
            }
        }, "warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        if (image != null) {
            image.startPrefetch();
        }
    }

    /**
     * Readahead of a mount: {@link #READS_IN_FLIGHT} reads of a chunk of its image (1 MiB by default) or of
     * {@link #MAX_READ}, whichever is smaller, within [128 KiB, 4 MiB].
     */
    static int readAheadKib(RafsImage image) {
        int chunk = image == null ? DEFAULT_CHUNK : image.superblock().chunkSize();
        long ra = (long) READS_IN_FLIGHT * Math.min(chunk, MAX_READ);
        return (int) (Math.max(MIN_READ_AHEAD, Math.min(MAX_READ_AHEAD, ra)) / 1024);
    }

    static String fuseOptions() {
        return String.join(",", "ro", "allow_other", "default_permissions", "nonempty", "max_read=" + MAX_READ,
                "fsname=" + FS_NAME, "subtype=" + FS_NAME);
    }

    private RafsImage openImage(String mountpoint, Path bootstrap, NydusdConfig config, List<String> prefetch)
            throws IOException {
        if (config == null) {
            throw new ConfigException("no configuration: pass --config or --localfs-dir, or 'config' in the request");
        }
        List<String> warnings = new ArrayList<>();
        RafsImage img;
        try {
            img = RafsImage.open(mountpoint, bootstrap, config, prefetch, warnings);
        } finally {
            warnings.forEach(w -> NydusdLog.warn("%s", w));
        }
        // Credentials or a proxy set through the API before this mount apply to it too.
        Map<String, String> settingsNow = runtimeSettings(img.id());
        settingsNow.putAll(runtimeSettings(mountpoint));
        settingsNow.forEach((k, v) -> applyRuntime(img, k, v));
        return img;
    }

    /** Asks the daemon to exit; {@link #awaitExit} returns {@code code}. Safe from any thread. */
    public void requestExit(int code) {
        if (exitRequested.getCount() > 0) {
            exitCode = code;
            exitRequested.countDown();
        }
    }

    /** Waits until an exit is requested, shuts down, and returns the exit code. */
    public int awaitExit() throws InterruptedException {
        exitRequested.await();
        shutdown();
        return exitCode;
    }

    /** Stops serving: the API first, then every mount (lazily unmounted), then the images. Idempotent. */
    public void shutdown() {
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        if (api != null) {
            api.close();
        }
        List<Mounted> all;
        synchronized (this) {
            all = new ArrayList<>(mounts.values());
            mounts.clear();
        }
        for (Mounted m : all) {
            if (m.session() != null) {
                m.session().unmount(UNMOUNT_WAIT_MILLIS);
            }
        }
        if (session != null) {
            session.unmount(UNMOUNT_WAIT_MILLIS);
        }
        for (Mounted m : all) {
            m.image().close();
        }
        state = DaemonState.STOPPED;
    }

    // ------------------------------------------------------------------------------------------------- API: daemon

    /** {@code GET /api/v1/daemon}: version, id, supervisor, state and (v1) the mounted backends. */
    ObjectNode info(boolean withBackends) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        BuildInfo b = BuildInfo.current();
        ObjectNode v = o.putObject("version");
        v.put("package_ver", b.packageVer());
        v.put("git_commit", b.gitCommit());
        v.put("build_time", b.buildTime());
        v.put("profile", b.profile());
        v.put("rustc", b.rustc());
        o.put("id", settings.id());
        o.put("supervisor", settings.supervisor());
        o.put("state", state.name());
        if (withBackends) {
            o.set("backend_collection", backendCollection());
        }
        return o;
    }

    private synchronized ObjectNode backendCollection() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        mounts.forEach((mp, m) -> o.set(mp, backendDesc(mp, m.image())));
        return o;
    }

    private static ObjectNode backendDesc(String mp, RafsImage img) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("backend_type", "Rafs");
        d.put("mountpoint", mp);
        d.put("mounted_time", img.mountedTime().toString());
        d.set("config", img.config().toJson(true));
        return d;
    }

    /** {@code PUT /api/v1/daemon}: {@code {"log_level": …}}. */
    void configure(JsonNode body) throws ApiException {
        JsonNode l = body.get("log_level");
        if (l == null || !l.isTextual()) {
            throw new ApiException(ApiException.BAD_REQUEST, "expected {\"log_level\": \"<level>\"}");
        }
        try {
            NydusdLog.setLevel(NydusdLog.Level.parse(l.textValue()));
        } catch (IllegalArgumentException e) {
            throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
        }
    }

    ArrayNode events() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (String[] e : NydusdLog.recentEvents()) {
            a.addObject().put("time", e[0]).put("level", e[1]).put("message", e[2]);
        }
        return a;
    }

    /** {@code GET /api/v1/daemon/backend[?mountpoint=]}: secrets removed from the configurations. */
    synchronized JsonNode backendInfo(String mountpoint) throws ApiException {
        if (mountpoint == null) {
            return backendCollection();
        }
        Mounted m = mounts.get(key(mountpoint));
        if (m == null) {
            throw new ApiException(ApiException.NOT_FOUND, "nothing is mounted at " + mountpoint);
        }
        return backendDesc(key(mountpoint), m.image());
    }

    /** {@code PUT /api/v1/daemon/start}: READY → RUNNING. */
    synchronized void startService() throws ApiException {
        switch (state) {
            case READY -> state = DaemonState.RUNNING;
            case RUNNING -> {
                // Already serving.
            }
            default -> throw new ApiException(ApiException.BAD_REQUEST, "cannot start a daemon in state " + state);
        }
    }

    /**
     * {@code PUT /api/v1/daemon/fuse/sendfd}: hands the FUSE device and what a successor needs to serve it (the
     * negotiated settings, the node-id layout, the images mounted through the API) to the supervisor, which keeps
     * them. While it does, the mount outlives this process: a successor takes it over and readers only wait.
     */
    void sendFuseFd() throws ApiException {
        byte[] state;
        FuseSession s;
        synchronized (this) {
            s = session;
            if (settings.supervisor() == null || s == null || !s.isAlive()) {
                throw new ApiException(ApiException.BAD_REQUEST,
                        "sendfd needs a FUSE daemon started with --supervisor and serving a mount");
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("version", TAKEOVER_STATE_VERSION);
            o.put("no_opendir", s.filesystem().noOpendir());
            o.put("max_read", s.maxRead());
            Vfs.Layout l = vfs.layout();
            o.set("slots", JSON.valueToTree(l.slots()));
            o.set("mount_counts", JSON.valueToTree(l.mountCounts()));
            o.set("pseudo_numbers", JSON.valueToTree(l.pseudoNumbers()));
            ArrayNode api = o.putArray("api_mounts");
            apiMounts.forEach((mp, cmd) -> api.addObject().put("mountpoint", mp).put("source", cmd.source())
                    .put("config", cmd.config()).set("prefetch_files", JSON.valueToTree(cmd.prefetchFiles())));
            try {
                state = JSON.writeValueAsBytes(o);
            } catch (IOException e) {
                throw new ApiException(ApiException.INTERNAL, e.getMessage());
            }
        }
        if (state.length > UnixFdSocket.MAX_DATA) {
            throw new ApiException(ApiException.INTERNAL, "takeover state of " + state.length + " bytes is too large");
        }
        try {
            UnixFdSocket.send(Path.of(settings.supervisor()), state, s.fd());
        } catch (IOException e) {
            throw new ApiException(ApiException.INTERNAL, "sendfd: " + e.getMessage());
        }
        NydusdLog.info("FUSE device of %s sent to the supervisor %s", s.mountpoint(), settings.supervisor());
    }

    /**
     * {@code PUT /api/v1/daemon/fuse/takeover} for a daemon started with {@code --upgrade}: with a supervisor,
     * the predecessor's FUSE device and state are received and the same mount is served on (open files stay
     * open; requests the predecessor left unanswered are resent). Without one, or when the supervisor has
     * nothing, a dead mount left behind is replaced with a fresh one. Either way the daemon goes to READY.
     */
    void takeover() throws ApiException {
        synchronized (this) {
            if (state != DaemonState.INIT || settings.mode() != Mode.FUSE) {
                throw new ApiException(ApiException.BAD_REQUEST, "takeover needs a FUSE daemon started with --upgrade");
            }
        }
        UnixFdSocket.Message m = null;
        if (settings.supervisor() != null) {
            try {
                m = UnixFdSocket.receive(Path.of(settings.supervisor()));
            } catch (IOException e) {
                NydusdLog.warn("takeover: nothing from the supervisor (%s); mounting afresh", e.getMessage());
            }
        }
        try {
            if (m != null && m.fd() >= 0) {
                adopt(m);
            } else {
                clearDeadMount(settings.mountpoint());
                mountFuse(openInitial(), newFilesystem());
            }
            state = DaemonState.READY;
        } catch (IOException | RuntimeException e) {
            throw new ApiException(ApiException.INTERNAL, "takeover failed: " + e.getMessage());
        }
    }

    private RafsImage openInitial() throws IOException {
        return settings.bootstrap() == null ? null : openImage(Vfs.normalize(settings.virtualMountpoint()),
                settings.bootstrap(), settings.config(), settings.prefetchFiles());
    }

    /** Serves the FUSE connection received from the supervisor, with the images the predecessor had. */
    private void adopt(UnixFdSocket.Message m) throws IOException {
        boolean serving = false;
        try {
            JsonNode st = JSON.readTree(m.data());
            if (st.path("version").asInt() != TAKEOVER_STATE_VERSION) {
                throw new IOException("unknown takeover state version " + st.path("version"));
            }
            Map<String, Integer> slots = new LinkedHashMap<>();
            st.path("slots").fields().forEachRemaining(e -> slots.put(e.getKey(), e.getValue().asInt()));
            Map<String, Long> pseudo = new HashMap<>();
            st.path("pseudo_numbers").fields().forEachRemaining(e -> pseudo.put(e.getKey(), e.getValue().asLong()));
            int[] counts = JSON.convertValue(st.path("mount_counts"), int[].class);
            vfs.restore(new Vfs.Layout(slots, counts == null ? new int[0] : counts, pseudo));
            // Every image is back in its slot before the first request is read.
            RafsImage initial = openInitial();
            synchronized (this) {
                if (initial != null) {
                    vfs.mount(initial.mountpoint(), initial);
                    mounts.put(initial.mountpoint(), new Mounted(initial, null));
                }
            }
            for (JsonNode a : st.path("api_mounts")) {
                List<String> prefetch = new ArrayList<>();
                a.path("prefetch_files").forEach(p -> prefetch.add(p.asText()));
                MountCommand cmd = new MountCommand(a.path("source").asText(), "rafs",
                        a.path("config").isNull() ? null : a.path("config").asText(), prefetch);
                try {
                    mount(a.path("mountpoint").asText(), cmd, false, true);
                } catch (ApiException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            RafsFuse fs = newFilesystem();
            session = FuseSession.adopt(settings.mountpoint(), fs, m.fd(), st.path("no_opendir").asBoolean(),
                    settings.threads(), st.path("max_read").asInt(MAX_READ));
            serving = true;
            exitWhenUnmounted(session);
            NydusdLog.info("took over %s from the supervisor %s", session.mountpoint(), settings.supervisor());
            afterMount(fs, initial);
        } finally {
            if (!serving) {
                FuseLib.libc().close(m.fd());
            }
        }
    }

    /** Lazily unmounts a FUSE mount whose daemon is gone (stat fails with ENOTCONN). */
    private static void clearDeadMount(Path mp) {
        try {
            Files.readAttributes(mp, "unix:dev");
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("not connected")) {
                FuseLib.libc().umount2(mp.toString(), FuseLib.MNT_DETACH);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- API: mounts

    private String key(String mountpoint) {
        return settings.mode() == Mode.FUSE ? Vfs.normalize(mountpoint) : Path.of(mountpoint).toAbsolutePath()
                .normalize().toString();
    }

    /** {@code POST} (mount) or {@code PUT} (remount) {@code /api/v1/mount?mountpoint=}. */
    void mount(String mountpoint, MountCommand cmd, boolean remount) throws ApiException {
        mount(mountpoint, cmd, remount, false);
    }

    /** A mount request; {@code takingOver}: a predecessor's image, mounted again before serving starts. */
    private void mount(String mountpoint, MountCommand cmd, boolean remount, boolean takingOver) throws ApiException {
        if (!takingOver && state != DaemonState.RUNNING && state != DaemonState.READY) {
            throw new ApiException(ApiException.NOT_READY, "daemon is " + state + ", not serving");
        }
        if (!cmd.fsType().equals("rafs")) {
            throw new ApiException(ApiException.NOT_IMPLEMENTED, "fs_type '" + cmd.fsType()
                    + "' is not supported (only 'rafs')");
        }
        String mp;
        try {
            mp = key(mountpoint);
        } catch (IllegalArgumentException e) {
            throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
        }
        NydusdConfig cfg = settings.config();
        if (cmd.config() != null && !cmd.config().isBlank()) {
            List<String> warnings = new ArrayList<>();
            try {
                cfg = NydusdConfig.parse(cmd.config(), warnings, "mount config");
            } catch (ConfigException e) {
                throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
            } finally {
                warnings.forEach(w -> NydusdLog.warn("%s", w));
            }
        }
        synchronized (this) {
            if (stopping) {
                throw new ApiException(ApiException.NOT_READY, "daemon is stopping");
            }
            boolean exists = mounts.containsKey(mp);
            if (remount && !exists) {
                throw new ApiException(ApiException.NOT_FOUND, "nothing is mounted at " + mp);
            }
            if (!remount && exists) {
                throw new ApiException(ApiException.BAD_REQUEST, mp + " is already mounted");
            }
            // One request per mountpoint at a time: opening an image takes a while and is done unlocked.
            if (!pending.add(mp)) {
                throw new ApiException(ApiException.BAD_REQUEST, "another request for " + mp + " is in progress");
            }
        }
        try {
            RafsImage image;
            try {
                image = openImage(mp, Path.of(cmd.source()), cfg, cmd.prefetchFiles());
            } catch (ConfigException | IOException e) {
                throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
            }
            try {
                if (settings.mode() == Mode.FUSE) {
                    mountVirtual(mp, image, remount);
                    synchronized (this) {
                        apiMounts.put(mp, cmd);
                    }
                } else {
                    mountSingleton(mp, image, remount);
                }
            } catch (ApiException | RuntimeException e) {
                image.close();
                throw e;
            }
        } finally {
            synchronized (this) {
                pending.remove(mp);
            }
        }
        NydusdLog.info("%s %s at %s", remount ? "remounted" : "mounted", cmd.source(), mp);
    }

    private void mountVirtual(String mp, RafsImage image, boolean remount) throws ApiException {
        RafsImage old = null;
        synchronized (this) {
            if (stopping) {
                throw new ApiException(ApiException.NOT_READY, "daemon is stopping");
            }
            try {
                if (remount) {
                    old = vfs.replace(mp, image);
                } else {
                    vfs.mount(mp, image);
                }
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
            }
            mounts.put(mp, new Mounted(image, null));
        }
        if (old != null && mp.equals("/") && session != null) {
            session.invalidateRoot(old);
        }
        invalidate(mp);
        if (old != null) {
            old.close();
        }
        image.startPrefetch();
    }

    /** Drops the kernel's cached names at and below the top-level component of {@code mp}. */
    private void invalidate(String mp) {
        FuseSession s = session;
        if (s != null && !mp.equals("/")) {
            String top = mp.substring(1).split("/")[0];
            s.invalidateEntry(FuseSession.ROOT_NODE_ID, top.getBytes(StandardCharsets.UTF_8));
            s.invalidateInode(FuseSession.ROOT_NODE_ID);
        }
    }

    private void mountSingleton(String mp, RafsImage image, boolean remount) throws ApiException {
        if (remount) {
            Mounted old;
            synchronized (this) {
                old = mounts.get(mp);
                if (old == null || stopping) {
                    throw new ApiException(ApiException.NOT_FOUND, "nothing is mounted at " + mp);
                }
                old.session().filesystem().vfs().replace("/", image);
                mounts.put(mp, new Mounted(image, old.session()));
            }
            old.session().invalidateRoot(old.image());
            old.image().close();
            image.startPrefetch();
            return;
        }
        Vfs own = new Vfs();
        own.mount("/", image);
        RafsFuse fs = new RafsFuse(own, inflight);
        FuseSession s;
        try {
            s = FuseSession.mount(Path.of(mp), fs, fuseOptions(), settings.threads(), MAX_READ);
        } catch (IOException e) {
            throw new ApiException(ApiException.INTERNAL, e.getMessage());
        }
        s.setReadAheadKib(readAheadKib(image));
        synchronized (this) {
            if (!stopping) {
                mounts.put(mp, new Mounted(image, s));
            }
        }
        if (stopping) {
            s.unmount(UNMOUNT_WAIT_MILLIS);
            throw new ApiException(ApiException.NOT_READY, "daemon is stopping");
        }
        s.onEnd(() -> {
            if (stopping) {
                return;
            }
            Mounted gone;
            synchronized (this) {
                gone = mounts.get(mp);
                if (gone == null || gone.session() != s) {
                    return;
                }
                mounts.remove(mp);
            }
            NydusdLog.info("%s was unmounted", mp);
            gone.image().close();
        });
        afterMount(fs, image);
    }

    /** {@code DELETE /api/v1/mount?mountpoint=}. */
    void umount(String mountpoint) throws ApiException {
        String mp;
        try {
            mp = key(mountpoint);
        } catch (IllegalArgumentException e) {
            throw new ApiException(ApiException.BAD_REQUEST, e.getMessage());
        }
        Mounted m;
        synchronized (this) {
            m = mounts.remove(mp);
            if (m == null) {
                throw new ApiException(ApiException.NOT_FOUND, "nothing is mounted at " + mp);
            }
            if (m.session() == null) {
                vfs.umount(mp);
                apiMounts.remove(mp);
            }
        }
        if (m.session() != null) {
            m.session().unmount(UNMOUNT_WAIT_MILLIS);
        } else {
            invalidate(mp);
        }
        m.image().close();
        NydusdLog.info("unmounted %s", mp);
    }

    // ------------------------------------------------------------------------------------------------- API: metrics

    /** The image an {@code id} query names: its mountpoint or its configuration id; the only one when absent. */
    private synchronized RafsImage imageFor(String id) throws ApiException {
        if (id == null || id.isEmpty()) {
            if (mounts.size() == 1) {
                return mounts.values().iterator().next().image();
            }
            throw new ApiException(ApiException.NOT_FOUND, mounts.isEmpty() ? "no image is mounted"
                    : "several images are mounted: pass ?id=<mountpoint>");
        }
        for (Map.Entry<String, Mounted> e : mounts.entrySet()) {
            RafsImage img = e.getValue().image();
            if (e.getKey().equals(id) || id.equals(img.config().id())) {
                return img;
            }
        }
        throw new ApiException(ApiException.NOT_FOUND, "no metrics counter for id " + id);
    }

    FsMetrics fsMetrics(String id) throws ApiException {
        return imageFor(id).metrics();
    }

    ArrayNode accessPatterns(String id) throws ApiException {
        RafsImage img = imageFor(id);
        return img.metrics().patternsJson(img::pathsOf);
    }

    ObjectNode backendMetrics(String id) throws ApiException {
        RafsImage img = imageFor(id);
        BackendMetrics m = img.backend().metrics();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", img.id());
        o.put("backend_type", img.backend().type());
        o.put("read_count", m.readCount());
        o.put("read_errors", m.readErrors());
        o.put("read_amount_total", m.readBytes());
        o.put("read_cumulative_latency_millis_total", m.readLatencyMillisTotal());
        o.put("read_cumulative_latency_total", m.readLatencyMillisTotal() * 1000);
        o.put("inflight", m.inflight());
        return o;
    }

    /**
     * {@code GET /api/v1/metrics/blobcache}: the chunk cache's figures ({@code ChunkSource.cacheMetrics()});
     * for a source without them (no local cache), an empty store path and no files.
     */
    ObjectNode blobcacheMetrics(String id) throws ApiException {
        RafsImage img = imageFor(id);
        Map<String, Object> fromCache = img.cacheMetrics();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", img.id());
        if (fromCache.isEmpty()) {
            o.put("store_path", "");
            o.putArray("underlying_files");
        } else {
            fromCache.forEach((k, v) -> o.set(k, JSON.valueToTree(v)));
        }
        return o;
    }

    ArrayNode inflight() {
        return inflight.toJson();
    }

    /** {@code GET /api/v1/config[?id=]}: the run-time keys set so far (for all images and for this one). */
    synchronized ObjectNode runtimeConfig(String id) throws ApiException {
        if (id != null && !id.isEmpty()) {
            imageFor(id);
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        runtimeSettings(id).forEach((k, v) -> o.put(k, k.equals(REGISTRY_AUTH) ? "<redacted>" : v));
        return o;
    }

    /** Settings that apply to image {@code id}: those set for every image, overridden by its own. */
    private synchronized Map<String, String> runtimeSettings(String id) {
        Map<String, String> m = new TreeMap<>(runtime.getOrDefault("", Map.of()));
        if (id != null && !id.isEmpty()) {
            m.putAll(runtime.getOrDefault(id, Map.of()));
        }
        return m;
    }

    /**
     * {@code PUT /api/v1/config[?id=]} with {@code {"registry_auth": base64 "user:pass", "proxy_url": …}}: applied
     * at once to the registry backends of the image ({@code id}) or of every image, and to images mounted
     * later. 501 when no mounted image has a backend that can change these at run time.
     */
    void updateRuntimeConfig(String id, JsonNode body) throws ApiException {
        Map<String, String> values = new LinkedHashMap<>();
        for (Iterator<String> it = body.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!RUNTIME_KEYS.contains(k) || !body.get(k).isTextual()) {
                throw new ApiException(ApiException.BAD_REQUEST, "'" + k + "' is not a run-time setting (expected "
                        + String.join(", ", RUNTIME_KEYS) + " with string values)");
            }
            values.put(k, body.get(k).textValue());
        }
        List<RafsImage> targets;
        synchronized (this) {
            targets = id == null || id.isEmpty() ? mounts.values().stream().map(Mounted::image).toList()
                    : List.of(imageFor(id));
            runtime.computeIfAbsent(id == null ? "" : id, k -> new LinkedHashMap<>()).putAll(values);
        }
        boolean applied = targets.isEmpty();
        for (RafsImage img : targets) {
            for (Map.Entry<String, String> e : values.entrySet()) {
                applied |= applyRuntime(img, e.getKey(), e.getValue());
            }
        }
        if (!applied) {
            throw new ApiException(ApiException.NOT_IMPLEMENTED, "no mounted image has a backend whose "
                    + String.join(", ", values.keySet()) + " can change at run time");
        }
    }

    /** Applies one run-time setting to an image's backend; false when that backend has no such setting. */
    private static boolean applyRuntime(RafsImage img, String key, String value) {
        if (img.backend() instanceof RegistryBackend r) {
            switch (key) {
                case REGISTRY_AUTH -> r.updateAuth(value);
                case PROXY_URL -> r.updateProxyUrl(value);
                default -> {
                    return false;
                }
            }
            NydusdLog.info("%s of %s updated", key, img.mountpoint());
            return true;
        }
        return false;
    }

    /** Prometheus text exposition of the daemon's counters. */
    String prometheus() {
        List<RafsImage> images;
        synchronized (this) {
            images = mounts.values().stream().map(Mounted::image).toList();
        }
        return PrometheusText.render(state, images);
    }
}
