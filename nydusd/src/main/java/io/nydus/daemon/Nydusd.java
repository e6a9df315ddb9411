package io.nydus.daemon;

import io.nydus.blobcache.registry.HttpSelectorThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import sun.misc.Signal;

/**
 * {@code nydusd}: the command line of upstream's daemon (notes §5.1). Global options work before and after a
 * subcommand; FUSE options work after {@code fuse} and, in the legacy form, with no subcommand at all.
 * Exit codes: 0 after a clean exit (signal, {@code PUT /api/v1/daemon/exit}, external unmount), 1 for a failure
 * at start (one line on stderr, nothing left mounted), 2 for a command-line mistake.
 */
@Command(name = "nydusd", mixinStandardHelpOptions = true, versionProvider = Nydusd.Version.class,
        subcommands = {Nydusd.Fuse.class, Nydusd.Singleton.class},
        description = {
            "Nydus image service daemon: mounts RAFS images (v5 and v6) read-only with FUSE and fetches their data "
                + "on demand from a local directory or a registry, verifying and caching chunks.",
            "",
            "Without a subcommand, nydusd runs as 'nydusd fuse' (legacy form)."},
        footer = {"",
            "Examples:",
            "  nydusd fuse -C config.json -M /mnt -B image.boot -A /run/nydusd/api.sock",
            "  nydusd -M /mnt -B image.boot -D /var/lib/nydus/blobs",
            "  nydusd singleton -A /run/nydusd/api.sock",
            "",
            "Configuration files: JSON v2, TOML v2 (version = 2) or legacy JSON v1 (device.backend, device.cache).",
            "Exit status: 0 after a clean stop (SIGTERM, SIGINT, PUT /api/v1/daemon/exit, external unmount), "
                + "1 when starting fails, 2 for command-line errors."},
        sortOptions = false, usageHelpAutoWidth = true)
public final class Nydusd implements Callable<Integer> {
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;
    private static final Set<String> FAILOVER_POLICIES = Set.of("none", "resend", "flush");
    private static final int MAX_THREADS = 1024;

    @Option(names = {"-A", "--apisock"}, paramLabel = "SOCKET", scope = ScopeType.INHERIT,
            description = "Path to the administration API socket (HTTP on a unix domain socket).")
    Path apisock;

    @Option(names = {"-C", "--config"}, paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Configuration file (JSON v2, TOML v2 or legacy JSON v1).")
    Path config;

    @Option(names = "--id", paramLabel = "ID", scope = ScopeType.INHERIT,
            description = "Service instance identifier (requires --supervisor).")
    String id;

    @Option(names = {"-l", "--log-level"}, paramLabel = "LEVEL", scope = ScopeType.INHERIT, defaultValue = "info",
            description = "Log level: trace, debug, info, warn, error, off (default: ${DEFAULT-VALUE}).")
    String logLevel;

    @Option(names = {"-L", "--log-file"}, paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Log to FILE (\".log\" is added when it has no extension) instead of stderr.")
    Path logFile;

    @Option(names = "--log-rotation-size", paramLabel = "MB", scope = ScopeType.INHERIT, defaultValue = "0",
            description = "Log rotation size in MB, 0 to disable (accepted; rotation is left to logrotate).")
    long logRotationSize;

    @Option(names = "--rlimit-nofile", paramLabel = "N", scope = ScopeType.INHERIT, defaultValue = "1000000",
            description = "Open file limit (accepted; the JVM raises the soft limit to the hard limit).")
    long rlimitNofile;

    @Option(names = "--supervisor", paramLabel = "SOCKET", scope = ScopeType.INHERIT,
            description = "Supervisor socket for failover (requires --id): PUT /api/v1/daemon/fuse/sendfd hands the "
                    + "FUSE device to it, and a --upgrade successor gets it back.")
    String supervisor;

    @Option(names = "--upgrade", scope = ScopeType.INHERIT,
            description = "Start in upgrade mode: stay in INIT until PUT /api/v1/daemon/fuse/takeover, which serves "
                    + "the mount the supervisor hands back (or mounts afresh).")
    boolean upgrade;

    @Mixin
    FuseOptions legacy;

    /** FUSE options, of {@code nydusd fuse} and of the legacy form. */
    static final class FuseOptions {
        @Option(names = {"-M", "--mountpoint"}, paramLabel = "DIR",
                description = "Mountpoint of the FUSE filesystem (required).")
        Path mountpoint;

        @Option(names = {"-B", "--bootstrap"}, paramLabel = "FILE",
                description = "RAFS bootstrap (filesystem metadata) to mount at the virtual mountpoint.")
        Path bootstrap;

        @Option(names = {"-D", "--localfs-dir"}, paramLabel = "DIR",
                description = "Directory holding the data blobs (localfs backend, cache files in the same "
                        + "directory); conflicts with --config.")
        Path localfsDir;

        @Option(names = {"-s", "--shared-dir"}, paramLabel = "DIR",
                description = "Directory to share with passthroughfs (not supported: RAFS only).")
        Path sharedDir;

        @Option(names = "--prefetch-files", paramLabel = "FILE",
                description = "File listing paths to prefetch, one per line (requires --bootstrap).")
        Path prefetchFiles;

        @Option(names = {"-m", "--virtual-mountpoint"}, paramLabel = "PATH", defaultValue = "/",
                description = "Path inside the FUSE mount where the bootstrap is mounted (default: ${DEFAULT-VALUE}).")
        String virtualMountpoint;

        @Option(names = "--failover-policy", paramLabel = "POLICY", defaultValue = "resend",
                description = "FUSE failover policy: none, resend or flush (default: ${DEFAULT-VALUE}).")
        String failoverPolicy;

        @Option(names = {"--fuse-threads", "--thread-num"}, paramLabel = "N", defaultValue = "4",
                description = "FUSE read workers, 1 to 1024; 1 reads file data on the request loop itself "
                        + "(metadata requests are always answered there) (default: ${DEFAULT-VALUE}).")
        int threads;

        @Option(names = "--writable", description = "Mount read-write (not supported: RAFS is read-only).")
        boolean writable;

        boolean anyGiven() {
            return mountpoint != null || bootstrap != null || localfsDir != null || sharedDir != null
                    || prefetchFiles != null || writable || !virtualMountpoint.equals("/") || threads != 4
                    || !failoverPolicy.equals("resend");
        }
    }

    @Command(name = "fuse", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
            description = "Serve RAFS images through a FUSE mountpoint.")
    static final class Fuse implements Callable<Integer> {
        @ParentCommand
        Nydusd parent;

        @Mixin
        FuseOptions options;

        @Override
        public Integer call() throws Exception {
            if (parent.legacy.anyGiven()) {
                throw new UsageException("FUSE options go after 'fuse' when the subcommand is used");
            }
            return parent.runFuse(options);
        }
    }

    @Command(name = "singleton", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
            description = {"Serve images mounted through the API, each at its own host path.",
                "",
                "No mount of its own: POST /api/v1/mount?mountpoint=/host/path mounts an image there, DELETE "
                    + "unmounts it."})
    static final class Singleton implements Callable<Integer> {
        @ParentCommand
        Nydusd parent;

        @Option(names = {"-F", "--fscache"}, paramLabel = "DIR",
                description = "fscache working directory (not supported: needs the kernel's on-demand fscache).")
        Path fscache;

        @Option(names = "--fscache-tag", paramLabel = "TAG", description = "fscache tag (with --fscache).")
        String fscacheTag;

        @Option(names = "--fscache-threads", paramLabel = "N", defaultValue = "4",
                description = "fscache worker threads (with --fscache).")
        int fscacheThreads;

        @Override
        public Integer call() throws Exception {
            if (parent.legacy.anyGiven()) {
                throw new UsageException("FUSE options do not apply to 'singleton'");
            }
            if (fscache != null) {
                throw new UsageException("--fscache is not supported: this daemon serves images with FUSE");
            }
            if (fscacheTag != null) {
                throw new UsageException("--fscache-tag requires --fscache");
            }
            return parent.runSingleton();
        }
    }

    /** A command-line mistake found after parsing; exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return BuildInfo.current().describe().split("\n");
        }
    }

    @Override
    public Integer call() throws Exception {
        return runFuse(legacy);
    }

    private void setUpLogging() throws IOException {
        try {
            NydusdLog.setLevel(NydusdLog.Level.parse(logLevel));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (logFile != null) {
            NydusdLog.toFile(logFile);
        }
        if (logRotationSize != 0) {
            NydusdLog.warn("--log-rotation-size is not supported; the log file grows until rotated externally");
        }
    }

    private void checkGlobal() {
        if (id != null && supervisor == null) {
            throw new UsageException("--id requires --supervisor");
        }
        if (supervisor != null && id == null) {
            throw new UsageException("--supervisor requires --id");
        }
    }

    int runFuse(FuseOptions f) throws Exception {
        setUpLogging();
        checkGlobal();
        if (f.mountpoint == null) {
            throw new UsageException("--mountpoint is required");
        }
        if (f.sharedDir != null) {
            throw new UsageException("--shared-dir (passthroughfs) is not supported: this daemon serves RAFS images");
        }
        if (f.writable) {
            throw new UsageException("--writable is not supported: RAFS images are read-only");
        }
        if (f.threads < 1 || f.threads > MAX_THREADS) {
            throw new UsageException("invalid working thread number " + f.threads + ", valid values: [1-1024]");
        }
        if (!FAILOVER_POLICIES.contains(f.failoverPolicy)) {
            throw new UsageException("invalid --failover-policy '" + f.failoverPolicy
                    + "': expected none, resend or flush");
        }
        if (f.localfsDir != null && config != null) {
            throw new UsageException("--localfs-dir conflicts with --config");
        }
        if (f.prefetchFiles != null && f.bootstrap == null) {
            throw new UsageException("--prefetch-files requires --bootstrap");
        }
        try {
            Vfs.normalize(f.virtualMountpoint);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--virtual-mountpoint: " + e.getMessage());
        }
        NydusdConfig cfg = loadConfig(f.localfsDir);
        if (f.bootstrap != null && cfg == null) {
            throw new UsageException("both --config and --localfs-dir are missing");
        }
        List<String> prefetch = f.prefetchFiles == null ? List.of() : readPrefetchList(f.prefetchFiles);
        Daemon.Settings s = new Daemon.Settings(Daemon.Mode.FUSE, id, supervisor, apisock, f.mountpoint, f.threads,
                f.failoverPolicy, cfg, f.bootstrap, f.virtualMountpoint, prefetch, upgrade);
        return run(s);
    }

    int runSingleton() throws Exception {
        setUpLogging();
        checkGlobal();
        if (upgrade) {
            NydusdLog.warn("--upgrade has no effect on 'singleton': it has no FUSE mount to take over");
        }
        NydusdConfig cfg = loadConfig(null);
        Daemon.Settings s = new Daemon.Settings(Daemon.Mode.SINGLETON, id, supervisor, apisock, null, 4, "resend", cfg,
                null, "/", List.of(), upgrade);
        return run(s);
    }

    private NydusdConfig loadConfig(Path localfsDir) {
        List<String> warnings = new ArrayList<>();
        try {
            if (localfsDir != null) {
                return NydusdConfig.localfs(localfsDir.toAbsolutePath(), warnings);
            }
            return config == null ? null : NydusdConfig.load(config, warnings);
        } finally {
            warnings.forEach(w -> NydusdLog.warn("%s", w));
        }
    }

    private static List<String> readPrefetchList(Path file) {
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(line.trim());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UsageException("--prefetch-files " + file + ": cannot read: " + e.getMessage());
        }
    }

    private static int run(Daemon.Settings s) throws Exception {
        Daemon daemon = new Daemon(s);
        for (String sig : List.of("TERM", "INT")) {
            // Replaces the JVM's handler, which would exit with 128+signal: a clean stop exits 0.
            Signal.handle(new Signal(sig), x -> daemon.requestExit(0));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::shutdown, "shutdown"));
        daemon.start();
        NydusdLog.info("nydusd %s %s (%s)", BuildInfo.current().packageVer(), daemon.state(),
                s.mode() == Daemon.Mode.FUSE ? s.mountpoint() : "singleton");
        int code = daemon.awaitExit();
        NydusdLog.info("nydusd exits");
        return code;
    }

    /** The message of a failure, one line. */
    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        return NydusdLog.firstLine(m);
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Nydusd());
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("nydusd: error: " + oneLine(ex) + " (see 'nydusd --help')");
            err.flush();
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("nydusd: error: " + oneLine(ex));
            err.flush();
            if (NydusdLog.debugEnabled()) {
                ex.printStackTrace(err);
                err.flush();
            }
            return ex instanceof UsageException ? EXIT_USAGE : EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        int code = execute(args);
        HttpSelectorThreads.stop();
        System.exit(code);
    }
}
