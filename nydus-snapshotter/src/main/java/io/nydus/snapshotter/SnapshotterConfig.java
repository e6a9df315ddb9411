package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.nydus.blobcache.registry.DockerConfigCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The snapshotter's settings: upstream's {@code config.toml} keys, overridden by command-line flags, with
 * upstream's defaults. Keys of upstream features this implementation does not have are accepted when they are
 * off; switching one on is an error naming the key, rather than a silently different behaviour.
 */
public final class SnapshotterConfig {
    public static final String DEFAULT_ROOT = "/var/lib/containerd/io.containerd.snapshotter.v1.nydus";
    public static final String DEFAULT_ADDRESS = "/run/containerd-nydus/containerd-nydus-grpc.sock";
    public static final String DEFAULT_NYDUSD_CONFIG = "/etc/nydus/nydusd-config.json";

    /** How nydusd serves images: one process per image, one for all, or none at all. */
    public enum DaemonMode { DEDICATED, SHARED, NONE }

    /**
     * What happens when a nydusd dies: nothing; a restart with fresh mounts; or a successor that takes the same
     * mount over from the snapshotter's supervisor socket (failover).
     */
    public enum RecoverPolicy { NONE, RESTART, FAILOVER }

    public Path root = Path.of(DEFAULT_ROOT);
    public Path address = Path.of(DEFAULT_ADDRESS);
    public DaemonMode daemonMode = DaemonMode.DEDICATED;
    public Path nydusdConfig = Path.of(DEFAULT_NYDUSD_CONFIG);
    /** True when the nydusd config path was given rather than defaulted: then it must exist. */
    public boolean nydusdConfigExplicit;
    public String nydusdPath = "nydusd";
    public RecoverPolicy recoverPolicy = RecoverPolicy.RESTART;
    public int threadsNumber;
    public Log.Level logLevel = Log.Level.INFO;
    public boolean logToStdout;
    public boolean overlayVolatile;
    public Path cacheDir;
    public Path dockerConfig = DockerConfigCredentials.defaultConfigFile(System.getenv());
    public final Map<String, RegistryCredentials.Credential> credentials = new LinkedHashMap<>();

    /** Reads {@code file} over the defaults; IOException with a one-line message naming the file and key. */
    public void load(Path file) throws IOException {
        JsonNode t;
        try {
            t = new TomlMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new IOException(file + ": " + msg);
        }
        if (t == null) {
            return;
        }
        Keys k = new Keys(file, t);
        k.text("root").ifPresent(v -> root = Path.of(v));
        k.text("address").ifPresent(v -> address = Path.of(v));
        k.text("daemon_mode").ifPresent(v -> daemonMode = k.check("daemon_mode", () -> parseDaemonMode(v)));
        k.text("daemon.nydusd_config").ifPresent(v -> {
            nydusdConfig = Path.of(v);
            nydusdConfigExplicit = true;
        });
        k.text("daemon.nydusd_path").ifPresent(v -> nydusdPath = v);
        k.text("daemon.nydusimage_path"); // accepted (a string) for compatibility; not used
        k.text("daemon.fs_driver").ifPresent(v -> k.check("daemon.fs_driver", () -> parseFsDriver(v)));
        k.text("daemon.recover_policy").ifPresent(v -> recoverPolicy = k.check("daemon.recover_policy",
                () -> parseRecoverPolicy(v)));
        k.integer("daemon.threads_number").ifPresent(v -> threadsNumber = k.check("daemon.threads_number",
                () -> parseThreads(v)));
        k.text("log.level").ifPresent(v -> logLevel = k.check("log.level", () -> Log.parse(v)));
        k.bool("log.log_to_stdout").ifPresent(v -> logToStdout = v);
        k.bool("snapshot.enable_overlayfs_volatile").ifPresent(v -> overlayVolatile = v);
        k.text("cache_manager.cache_dir").ifPresent(v -> cacheDir = v.isEmpty() ? null : Path.of(v));
        k.text("remote.auth.docker_config").ifPresent(v -> dockerConfig = Path.of(v));
        for (String unsupported : List.of("snapshot.enable_nydus_overlayfs", "snapshot.enable_kata_volume",
                "experimental.enable_stargz", "experimental.enable_referrer_detect",
                "experimental.enable_index_detect", "experimental.tarfs.enable_tarfs",
                "remote.auth.enable_kubeconfig_keychain", "remote.auth.enable_cri_keychain",
                "remote.auth.enable_kubelet_credential_providers", "remote.convert_vpc_registry")) {
            if (k.bool(unsupported).orElse(false)) {
                throw new IOException(file + ": " + unsupported + " = true is not supported by this snapshotter");
            }
        }
        JsonNode hosts = t.path("remote").path("auth").path("hosts");
        for (Iterator<Map.Entry<String, JsonNode>> it = hosts.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            credentials.put(e.getKey(), k.credential("remote.auth.hosts.\"" + e.getKey() + "\"", e.getValue()));
        }
    }

    public static DaemonMode parseDaemonMode(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "dedicated", "multiple" -> DaemonMode.DEDICATED;
            case "shared" -> DaemonMode.SHARED;
            case "none" -> DaemonMode.NONE;
            default -> throw new IllegalArgumentException("invalid daemon mode \"" + v
                    + "\" (dedicated, multiple, shared, none)");
        };
    }

    public static String parseFsDriver(String v) {
        return switch (v) {
            case "fusedev" -> v;
            case "fscache", "blockdev", "proxy", "nodev" -> throw new IllegalArgumentException(
                    "fs driver \"" + v + "\" is not supported (fusedev)");
            default -> throw new IllegalArgumentException("invalid fs driver \"" + v + "\" (fusedev)");
        };
    }

    public static RecoverPolicy parseRecoverPolicy(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "none" -> RecoverPolicy.NONE;
            case "restart" -> RecoverPolicy.RESTART;
            case "failover" -> RecoverPolicy.FAILOVER;
            default -> throw new IllegalArgumentException("invalid recover policy \"" + v
                    + "\" (none, restart, failover)");
        };
    }

    static int parseThreads(long v) {
        if (v < 0 || v > 1024) {
            throw new IllegalArgumentException("threads number " + v + " out of range 0..1024");
        }
        return (int) v;
    }

    public Path cacheDirectory() {
        return cacheDir != null ? cacheDir : root.resolve("cache");
    }

    /** Typed access to dotted keys, with errors naming the file and key. */
    private static final class Keys {
        private final Path file;
        private final JsonNode root;

        Keys(Path file, JsonNode root) {
            this.file = file;
            this.root = root;
        }

        private JsonNode node(String dotted) {
            JsonNode n = root;
            for (String part : dotted.split("\\.")) {
                n = n.path(part);
            }
            return n;
        }

        java.util.Optional<String> text(String key) {
            JsonNode n = node(key);
            if (n.isMissingNode() || n.isNull()) {
                return java.util.Optional.empty();
            }
            if (!n.isTextual()) {
                throw new Bad(file + ": " + key + " must be a string");
            }
            return java.util.Optional.of(n.asText());
        }

        java.util.Optional<Long> integer(String key) {
            JsonNode n = node(key);
            if (n.isMissingNode() || n.isNull()) {
                return java.util.Optional.empty();
            }
            if (!n.isIntegralNumber()) {
                throw new Bad(file + ": " + key + " must be an integer");
            }
            return java.util.Optional.of(n.asLong());
        }

        java.util.Optional<Boolean> bool(String key) {
            JsonNode n = node(key);
            if (n.isMissingNode() || n.isNull()) {
                return java.util.Optional.empty();
            }
            if (!n.isBoolean()) {
                throw new Bad(file + ": " + key + " must be true or false");
            }
            return java.util.Optional.of(n.asBoolean());
        }

        RegistryCredentials.Credential credential(String key, JsonNode n) {
            String auth = n.path("auth").asText("");
            if (!auth.isEmpty()) {
                String plain;
                try {
                    plain = new String(java.util.Base64.getDecoder().decode(auth), java.nio.charset.StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw new Bad(file + ": " + key + ".auth is not base64");
                }
                int colon = plain.indexOf(':');
                if (colon <= 0) {
                    throw new Bad(file + ": " + key + ".auth is not base64 of user:password");
                }
                return new RegistryCredentials.Credential(plain.substring(0, colon), plain.substring(colon + 1));
            }
            String token = n.path("registry_token").asText("");
            if (!token.isEmpty()) {
                return new RegistryCredentials.Credential("", token);
            }
            String user = n.path("username").asText("");
            String pass = n.path("password").asText("");
            if (user.isEmpty() || pass.isEmpty()) {
                throw new Bad(file + ": " + key + " needs username and password, auth, or registry_token");
            }
            return new RegistryCredentials.Credential(user, pass);
        }

        <T> T check(String key, java.util.function.Supplier<T> parse) {
            try {
                return parse.get();
            } catch (IllegalArgumentException e) {
                throw new Bad(file + ": " + key + ": " + e.getMessage());
            }
        }
    }

    /** A bad configuration value; its message is the one line the user sees. */
    public static final class Bad extends RuntimeException {
        public Bad(String message) {
            super(message);
        }
    }
}
