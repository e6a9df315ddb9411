package io.nydus.snapshotter;

import io.nydus.blobcache.registry.HttpSelectorThreads;
import io.nydus.snapshotter.pull.PullCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code containerd-nydus-grpc}: the snapshotter daemon, with upstream's flags; {@code pull} is {@link PullCommand}. */
@Command(name = "containerd-nydus-grpc", mixinStandardHelpOptions = false, sortOptions = false, usageHelpWidth = 100,
        subcommands = PullCommand.class,
        description = "containerd remote snapshotter for nydus images: serves containerd's snapshots API on a unix "
            + "socket, unpacks ordinary OCI layers like the overlayfs snapshotter, and starts nydusd for nydus images.",
        footer = {"", "Flags override the config file; the config file overrides the defaults.",
            "", "config.toml keys (upstream's names):",
            "  root, address, daemon_mode = \"dedicated\"|\"multiple\"|\"shared\"|\"none\"",
            "  [daemon] nydusd_config, nydusd_path, nydusimage_path, fs_driver = \"fusedev\",",
            "           recover_policy = \"restart\"|\"failover\"|\"none\" (failover: a successor takes the",
            "           mount over), threads_number",
            "  [log] level, log_to_stdout",
            "  [snapshot] enable_overlayfs_volatile",
            "  [cache_manager] cache_dir (nydusd's blob cache; default <root>/cache)",
            "  [remote.auth] docker_config (default $DOCKER_CONFIG/config.json or ~/.docker/config.json)",
            "  [remote.auth.hosts.\"<host>\"] username + password, auth (base64 user:pass) or registry_token",
            "Other upstream keys are accepted; enabling a feature this snapshotter lacks is an error.",
            "", "containerd config: [proxy_plugins.nydus] type = \"snapshot\", address = <--address>.",
            "Nydus images need a puller that passes layer annotations as labels: 'containerd-nydus-grpc pull'",
            "(pull --help), CRI or nerdctl; 'ctr image pull' of containerd 1.6 cannot pull them."})
public final class Main implements Callable<Integer> {
    /** grpc-netty warns through JUL about socket options unix sockets lack; kept quiet (and referenced). */
    private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

    @Option(names = "--root", paramLabel = "DIR", description = "directory to store snapshotter data and working "
            + "states (default: " + SnapshotterConfig.DEFAULT_ROOT + ")")
    Path root;

    @Option(names = "--address", paramLabel = "SOCKET", description = "remote snapshotter gRPC socket path "
            + "(default: " + SnapshotterConfig.DEFAULT_ADDRESS + ")")
    Path address;

    @Option(names = "--config", paramLabel = "FILE", description = "path to nydus-snapshotter configuration "
            + "(such as: config.toml)")
    Path config;

    @Option(names = {"--nydusd-config", "--config-path"}, paramLabel = "FILE", description = "path to nydusd "
            + "configuration template (default: " + SnapshotterConfig.DEFAULT_NYDUSD_CONFIG
            + ", built-in registry template if absent)")
    Path nydusdConfig;

    @Option(names = "--nydusd", paramLabel = "PATH", description = "path to nydusd binary (default: nydusd in $PATH)")
    String nydusd;

    @Option(names = "--nydus-image", paramLabel = "PATH", description = "path to nydus-image binary (accepted for "
            + "compatibility; not used)")
    String nydusImage;

    @Option(names = "--daemon-mode", paramLabel = "MODE", description = "nydusd daemon working mode: dedicated "
            + "(alias multiple), shared or none (default: dedicated)")
    String daemonMode;

    @Option(names = "--fs-driver", paramLabel = "DRIVER", description = "driver to mount RAFS filesystem: fusedev "
            + "(default: fusedev)")
    String fsDriver;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "logging level: trace, debug, info, warn, "
            + "error (default: info)")
    String logLevel;

    @Option(names = "--log-to-stdout", description = "print log messages to standard output instead of stderr")
    Boolean logToStdout;

    @Option(names = "--version", versionHelp = true, description = "print version and build information")
    boolean version;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    public static void main(String[] args) {
        int code = run(args);
        HttpSelectorThreads.stop();
        System.exit(code);
    }

    static int run(String... args) {
        GRPC_LOG.setLevel(java.util.logging.Level.SEVERE);
        CommandLine cl = new CommandLine(new Main());
        cl.getCommandSpec().version("containerd-nydus-grpc (nydus-java) "
                + java.util.Objects.requireNonNullElse(Main.class.getPackage().getImplementationVersion(), "0.1.0"));
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("containerd-nydus-grpc: " + ex.getMessage());
            return 1;
        });
        cl.setExecutionExceptionHandler((ex, c, parse) -> {
            c.getErr().println("containerd-nydus-grpc: " + String.valueOf(ex.getMessage()).replace('\n', ' '));
            return 1;
        });
        cl.setErr(new PrintWriter(System.err, true));
        return cl.execute(args);
    }

    /**
     * The merged configuration: defaults, then the config file, then flags. Every error's message is one line, which
     * the execution exception handler of {@link #run} prints.
     */
    SnapshotterConfig settings() throws IOException {
        SnapshotterConfig c = new SnapshotterConfig();
        if (config != null) {
            if (!Files.isRegularFile(config)) {
                throw new IOException("config file " + config + " does not exist");
            }
            c.load(config);
        }
        if (root != null) {
            c.root = root;
        }
        if (address != null) {
            c.address = address;
        }
        if (nydusdConfig != null) {
            c.nydusdConfig = nydusdConfig;
            c.nydusdConfigExplicit = true;
        }
        if (nydusd != null) {
            c.nydusdPath = nydusd;
        }
        if (daemonMode != null) {
            c.daemonMode = SnapshotterConfig.parseDaemonMode(daemonMode);
        }
        if (fsDriver != null) {
            SnapshotterConfig.parseFsDriver(fsDriver); // fusedev, the only driver, or a one-line error
        }
        if (logLevel != null) {
            c.logLevel = Log.parse(logLevel);
        }
        if (logToStdout != null) {
            c.logToStdout = logToStdout;
        }
        c.root = c.root.toAbsolutePath().normalize();
        c.address = c.address.toAbsolutePath().normalize();
        return c;
    }

    @Override
    public Integer call() throws Exception {
        SnapshotterConfig c = settings();
        Log.configure(c.logLevel, c.logToStdout ? System.out : System.err);
        NydusdConfigTemplate template;
        if (c.nydusdConfigExplicit || Files.exists(c.nydusdConfig)) {
            template = NydusdConfigTemplate.load(c.nydusdConfig);
        } else {
            template = NydusdConfigTemplate.builtIn();
        }
        String nydusdPath = resolveExecutable(c.nydusdPath);
        RootLayout layout = new RootLayout(c.root);
        SnapshotStore store = SnapshotStore.open(c.root);
        RemoteFilesystem nydus = null;
        Snapshotter snapshotter;
        UnixGrpcServer server;
        try {
            if (c.daemonMode != SnapshotterConfig.DaemonMode.NONE) {
                nydus = new NydusFilesystem(new NydusFilesystem.Settings(nydusdPath, c.daemonMode, c.recoverPolicy,
                        template, c.cacheDirectory(), new RegistryCredentials(c.credentials, c.dockerConfig),
                        c.logLevel.name().toLowerCase(java.util.Locale.ROOT), c.threadsNumber,
                        Duration.ofSeconds(30), Duration.ofMillis(500)), layout, store);
            }
            snapshotter = new Snapshotter(store, layout,
                    new OverlayMounts(layout, OverlayMounts.kernelHasOverlayIndex(), c.overlayVolatile), nydus);
            server = UnixGrpcServer.start(c.address, new SnapshotsService(snapshotter).definition());
        } catch (IOException | RuntimeException e) {
            if (nydus != null) {
                nydus.close();
            }
            store.close();
            throw e;
        }
        Snapshotter s = snapshotter;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            s.close();
        }, "shutdown"));
        Log.debug("serving on %s, root %s, daemon mode %s", c.address, c.root, c.daemonMode);
        server.awaitTermination();
        return 0;
    }

    /** A bare name is looked up in $PATH now, so a missing nydusd shows in the first nydus mount's error. */
    static String resolveExecutable(String name) {
        if (name.contains("/")) {
            return Path.of(name).toAbsolutePath().toString();
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) {
                    return p.toAbsolutePath().toString();
                }
            }
        }
        return name;
    }
}
