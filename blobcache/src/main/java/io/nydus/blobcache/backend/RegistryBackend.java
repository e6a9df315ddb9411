package io.nydus.blobcache.backend;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.blobcache.BackendMetrics;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.DockerConfigCredentials;
import io.nydus.blobcache.registry.ProxyConfig;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.RegistryCredentials;
import io.nydus.blobcache.registry.RegistrySettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Blobs of one repository in an OCI registry ({@code registry} backend, notes §5.2 and §6), optionally read through
 * a Dragonfly proxy. Blob id {@code <hex>} is the blob {@code sha256:<hex>}; every read is one ranged GET.
 */
public final class RegistryBackend implements BlobBackend {
    public static final String TYPE = "registry";
    /** {@code retry_limit} is a u8 upstream. */
    private static final int MAX_RETRY_LIMIT = 255;
    private static final Set<String> KEYS = Set.of("scheme", "host", "repo", "auth", "registry_token", "skip_verify",
            "ca_cert_files", "timeout", "connect_timeout", "retry_limit", "blob_url_scheme", "blob_redirected_host",
            "proxy");
    private static final Set<String> PROXY_KEYS = Set.of("url", "ping_url", "fallback", "check_interval", "use_http",
            "check_pause_elapsed", "dragonfly_scheduler_endpoint");
    private static final Pattern HEX_ID = Pattern.compile("[0-9a-f]{64}");

    private final RegistryClient client;
    private final String repo;
    private final BackendMetrics metrics = new BackendMetrics();
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    /** Blob id → digest, so that an id is checked once rather than on every read. */
    private final Map<String, String> digests = new ConcurrentHashMap<>();

    public RegistryBackend(RegistryClient client, String repo) {
        this.client = client;
        this.repo = repo;
    }

    /**
     * Creates the backend from the {@code config} object of a nydusd registry backend. Without {@code auth} and
     * {@code registry_token}, credentials for the host are looked up in the docker config.json.
     *
     * @throws IllegalArgumentException with a one-line message naming the key of an invalid value
     */
    public static RegistryBackend fromConfig(JsonNode config, List<String> warnings) {
        return fromConfig(config, warnings, DockerConfigCredentials.defaultConfigFile(System.getenv()));
    }

    /** As {@link #fromConfig(JsonNode, List)}, looking credentials up in {@code dockerConfig}. */
    public static RegistryBackend fromConfig(JsonNode config, List<String> warnings, Path dockerConfig) {
        if (config == null || !config.isObject()) {
            throw new IllegalArgumentException("registry backend: 'config' must be an object");
        }
        BlobBackends.warnUnknown(config, KEYS, TYPE, warnings);
        String host = requiredText(config, "host");
        String repo = requiredText(config, "repo");
        RegistrySettings.Builder b = RegistrySettings.builder(host);
        try {
            b.scheme(text(config, "scheme", RegistrySettings.DEFAULT_SCHEME));
        } catch (IllegalArgumentException e) {
            throw invalid("scheme", e.getMessage());
        }
        b.skipVerify(bool(config, "skip_verify", false));
        b.caCertFiles(paths(config, "ca_cert_files"));
        b.timeout(seconds(config, "timeout", RegistrySettings.DEFAULT_TIMEOUT));
        b.connectTimeout(seconds(config, "connect_timeout", RegistrySettings.DEFAULT_CONNECT_TIMEOUT));
        b.retryLimit(integer(config, "retry_limit", RegistrySettings.DEFAULT_RETRY_LIMIT, 0, MAX_RETRY_LIMIT));
        String blobScheme = text(config, "blob_url_scheme", "");
        if (!blobScheme.isEmpty() && !blobScheme.equals("http") && !blobScheme.equals("https")) {
            throw invalid("blob_url_scheme", "must be http or https, not '" + blobScheme + "'");
        }
        b.blobUrlScheme(blobScheme);
        b.blobRedirectedHost(text(config, "blob_redirected_host", ""));
        b.credentials(credentials(config, host, warnings, dockerConfig));
        if (config.hasNonNull("proxy")) {
            b.proxy(proxy(config.get("proxy"), warnings));
        }
        RegistryClient client;
        try {
            client = new RegistryClient(b.build());
        } catch (IOException e) {
            throw new IllegalArgumentException("registry backend: " + e.getMessage());
        }
        return new RegistryBackend(client, repo);
    }

    private static RegistryCredentials credentials(JsonNode config, String host, List<String> warnings,
            Path dockerConfig) {
        String auth = text(config, "auth", "");
        String token = text(config, "registry_token", "");
        RegistryCredentials c = RegistryCredentials.none();
        if (!auth.isEmpty()) {
            try {
                c = RegistryCredentials.fromAuth(auth);
            } catch (IllegalArgumentException e) {
                throw invalid("auth", e.getMessage());
            }
        }
        if (!token.isEmpty()) {
            c = c.withRegistryToken(token);
        }
        if (c.isEmpty()) {
            try {
                Optional<RegistryCredentials> found = DockerConfigCredentials.lookup(dockerConfig, host);
                if (found.isPresent()) {
                    c = found.get();
                }
            } catch (IOException e) {
                warnings.add("registry backend: docker config not used: " + e.getMessage());
            }
        }
        return c;
    }

    private static ProxyConfig proxy(JsonNode p, List<String> warnings) {
        if (!p.isObject()) {
            throw invalid("proxy", "must be an object");
        }
        BlobBackends.warnUnknown(p, PROXY_KEYS, TYPE, "proxy.", warnings);
        String url = text(p, "url", "");
        if (url.isEmpty()) {
            return null; // upstream: an empty url turns the proxy off
        }
        if (!text(p, "dragonfly_scheduler_endpoint", "").isEmpty()) {
            warnings.add("registry backend: 'proxy.dragonfly_scheduler_endpoint' (Dragonfly SDK mode) is not supported;"
                    + " using the HTTP proxy");
        }
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw invalid("proxy.url", "'" + url + "' is not a URL");
        }
        if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
            throw invalid("proxy.url", "'" + url + "' is not an http://host:port URL");
        }
        String ping = text(p, "ping_url", "");
        if (!ping.isEmpty()) {
            try {
                URI pu = URI.create(ping);
                if (pu.getScheme() == null || pu.getHost() == null) {
                    throw new IllegalArgumentException();
                }
            } catch (IllegalArgumentException e) {
                throw invalid("proxy.ping_url", "'" + ping + "' is not an absolute URL");
            }
        }
        return new ProxyConfig(u, ping, bool(p, "fallback", ProxyConfig.DEFAULT_FALLBACK),
                seconds(p, "check_interval", ProxyConfig.DEFAULT_CHECK_INTERVAL, "proxy."),
                bool(p, "use_http", false),
                seconds(p, "check_pause_elapsed", ProxyConfig.DEFAULT_CHECK_PAUSE_ELAPSED, "proxy."),
                ProxyConfig.DEFAULT_DIRECT_READS_PER_SECOND);
    }

    // ------------------------------------------------------------------------------------------------ BlobBackend

    @Override
    public String type() {
        return TYPE;
    }

    public RegistryClient client() {
        return client;
    }

    public String repo() {
        return repo;
    }

    /** Replaces the credentials at runtime: {@code registry_auth} of nydusd's {@code PUT /api/v1/config}. */
    public void updateAuth(String base64Auth) {
        RegistryCredentials c = RegistryCredentials.fromAuth(base64Auth);
        String token = client.settings().credentials().registryToken();
        client.updateCredentials(token == null ? c : c.withRegistryToken(token));
    }

    /** Replaces the credentials at runtime. */
    public void updateCredentials(RegistryCredentials c) {
        client.updateCredentials(c);
    }

    /** Points blob reads at another Dragonfly proxy ({@code proxy_url} of {@code PUT /api/v1/config}); "" = none. */
    public void updateProxyUrl(String url) {
        if (url == null || url.isEmpty()) {
            client.updateProxy(null);
            return;
        }
        ProxyConfig old = client.proxy() != null ? client.proxy().config() : client.settings().proxy();
        URI u = URI.create(url);
        client.updateProxy(old == null ? ProxyConfig.of(url) : new ProxyConfig(u, old.pingUrl(), old.fallback(),
                old.checkInterval(), old.useHttp(), old.checkPauseElapsed(), old.directReadsPerSecond()));
    }

    static String digestOf(String blobId) throws IOException {
        if (HEX_ID.matcher(blobId).matches()) {
            return "sha256:" + blobId;
        }
        if (blobId.startsWith("sha256:") && HEX_ID.matcher(blobId.substring(7)).matches()) {
            return blobId;
        }
        throw new IOException("invalid blob id '" + blobId + "': expected 64 lower-case hex digits");
    }

    private String digest(String blobId) throws IOException {
        String d = digests.get(blobId);
        if (d == null) {
            d = digestOf(blobId);
            digests.put(blobId, d);
        }
        return d;
    }

    @Override
    public long blobSize(String blobId) throws IOException {
        Long known = sizes.get(blobId);
        if (known != null) {
            return known;
        }
        long start = metrics.begin();
        boolean ok = false;
        try {
            long n = client.blobSize(repo, digest(blobId));
            sizes.put(blobId, n);
            ok = true;
            return n;
        } finally {
            metrics.end(start, 0, ok);
        }
    }

    @Override
    public void read(String blobId, long offset, byte[] dst, int dstOff, int len, ReadPriority priority)
            throws IOException {
        long start = metrics.begin();
        boolean ok = false;
        try {
            client.readBlob(repo, digest(blobId), offset, dst, dstOff, len, priority);
            ok = true;
        } finally {
            metrics.end(start, len, ok);
        }
    }

    @Override
    public BackendMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        client.close();
    }

    // ------------------------------------------------------------------------------------------------ config values

    private static IllegalArgumentException invalid(String key, String why) {
        return new IllegalArgumentException("registry backend: '" + key + "' " + why);
    }

    private static String requiredText(JsonNode c, String key) {
        String v = text(c, key, "");
        if (v.isEmpty()) {
            throw invalid(key, "is required");
        }
        if (key.equals("host") && (v.contains("/") || v.contains(" "))) {
            throw invalid(key, "must be host[:port], not '" + v + "'");
        }
        return v;
    }

    private static String text(JsonNode c, String key, String dflt) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw invalid(key, "must be a string");
        }
        return n.asText();
    }

    private static boolean bool(JsonNode c, String key, boolean dflt) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw invalid(key, "must be true or false");
        }
        return n.asBoolean();
    }

    private static int integer(JsonNode c, String key, int dflt, int min, int max) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
            throw invalid(key, "must be an integer from " + min + " to " + max);
        }
        return n.asInt();
    }

    private static Duration seconds(JsonNode c, String key, Duration dflt) {
        return seconds(c, key, dflt, "");
    }

    private static Duration seconds(JsonNode c, String key, Duration dflt, String prefix) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > 86_400) {
            throw invalid(prefix + key, "must be a number of seconds from 1 to 86400");
        }
        return Duration.ofSeconds(n.asLong());
    }

    private static List<Path> paths(JsonNode c, String key) {
        JsonNode n = c.get(key);
        List<Path> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isTextual()) {
            if (!n.asText().isEmpty()) {
                out.add(Path.of(n.asText()));
            }
            return out;
        }
        if (!n.isArray()) {
            throw invalid(key, "must be a list of file names");
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw invalid(key, "must be a list of file names");
            }
            out.add(Path.of(e.asText()));
        }
        return out;
    }
}
