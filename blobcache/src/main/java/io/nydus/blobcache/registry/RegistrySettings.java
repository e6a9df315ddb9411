package io.nydus.blobcache.registry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach one registry: the connection settings of nydusd's registry backend (notes §5.2) minus the repository,
 * which every {@link RegistryClient} call names. Immutable; make one with {@link #builder(String)}.
 */
public final class RegistrySettings {
    public static final String DEFAULT_SCHEME = "https";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_RETRY_LIMIT = 0;
    /** First pause before a retry; doubled for each further retry. */
    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(100);
    public static final String DEFAULT_USER_AGENT = "nydusd/1.0.0";
    /** Environment variables with this prefix add a request header: NYDUS_HEADER_X_Tenant=a → "X-Tenant: a". */
    public static final String HEADER_ENV_PREFIX = "NYDUS_HEADER_";

    private final String scheme;
    private final String host;
    private final boolean skipVerify;
    private final List<Path> caCertFiles;
    private final Duration timeout;
    private final Duration connectTimeout;
    private final int retryLimit;
    private final Duration retryBackoff;
    private final String blobUrlScheme;
    private final String blobRedirectedHost;
    private final String userAgent;
    private final Map<String, String> extraHeaders;
    private final RegistryCredentials credentials;
    private final ProxyConfig proxy;

    private RegistrySettings(Builder b) {
        this.scheme = b.scheme;
        this.host = b.host;
        this.skipVerify = b.skipVerify;
        this.caCertFiles = List.copyOf(b.caCertFiles);
        this.timeout = b.timeout;
        this.connectTimeout = b.connectTimeout;
        this.retryLimit = b.retryLimit;
        this.retryBackoff = b.retryBackoff;
        this.blobUrlScheme = b.blobUrlScheme;
        this.blobRedirectedHost = b.blobRedirectedHost;
        this.userAgent = b.userAgent;
        this.extraHeaders = Map.copyOf(b.extraHeaders);
        this.credentials = b.credentials;
        this.proxy = b.proxy;
    }

    /** Settings for {@code host} ("registry.example.com" or "127.0.0.1:5000") with upstream defaults. */
    public static Builder builder(String host) {
        return new Builder(host);
    }

    public Builder toBuilder() {
        Builder b = new Builder(host);
        b.scheme = scheme;
        b.skipVerify = skipVerify;
        b.caCertFiles = caCertFiles;
        b.timeout = timeout;
        b.connectTimeout = connectTimeout;
        b.retryLimit = retryLimit;
        b.retryBackoff = retryBackoff;
        b.blobUrlScheme = blobUrlScheme;
        b.blobRedirectedHost = blobRedirectedHost;
        b.userAgent = userAgent;
        b.extraHeaders = new LinkedHashMap<>(extraHeaders);
        b.credentials = credentials;
        b.proxy = proxy;
        return b;
    }

    public String scheme() {
        return scheme;
    }

    public String host() {
        return host;
    }

    public boolean skipVerify() {
        return skipVerify;
    }

    public List<Path> caCertFiles() {
        return caCertFiles;
    }

    /** Longest wait for an answer, or for the next bytes of a body. */
    public Duration timeout() {
        return timeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Retries after the first attempt for connection errors, 5xx answers, stalls and truncated bodies. */
    public int retryLimit() {
        return retryLimit;
    }

    public Duration retryBackoff() {
        return retryBackoff;
    }

    /** Scheme that replaces the one of redirect locations; empty = keep. */
    public String blobUrlScheme() {
        return blobUrlScheme;
    }

    /** Host that replaces the one of redirect locations; empty = keep. */
    public String blobRedirectedHost() {
        return blobRedirectedHost;
    }

    public String userAgent() {
        return userAgent;
    }

    /** Headers added to every registry request. */
    public Map<String, String> extraHeaders() {
        return extraHeaders;
    }

    public RegistryCredentials credentials() {
        return credentials;
    }

    /** The Dragonfly proxy for blob reads, or null. */
    public ProxyConfig proxy() {
        return proxy;
    }

    /** Headers named by {@value #HEADER_ENV_PREFIX} variables of {@code env}; '_' in the name becomes '-'. */
    public static Map<String, String> headersFromEnv(Map<String, String> env) {
        Map<String, String> h = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith(HEADER_ENV_PREFIX) && e.getKey().length() > HEADER_ENV_PREFIX.length()) {
                h.put(e.getKey().substring(HEADER_ENV_PREFIX.length()).replace('_', '-'), e.getValue());
            }
        }
        return h;
    }

    public static final class Builder {
        private String scheme = DEFAULT_SCHEME;
        private final String host;
        private boolean skipVerify;
        private List<Path> caCertFiles = List.of();
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int retryLimit = DEFAULT_RETRY_LIMIT;
        private Duration retryBackoff = DEFAULT_RETRY_BACKOFF;
        private String blobUrlScheme = "";
        private String blobRedirectedHost = "";
        private String userAgent = DEFAULT_USER_AGENT;
        private Map<String, String> extraHeaders = headersFromEnv(System.getenv());
        private RegistryCredentials credentials = RegistryCredentials.none();
        private ProxyConfig proxy;

        private Builder(String host) {
            if (host == null || host.isBlank() || host.contains("/")) {
                throw new IllegalArgumentException("host '" + host + "' is not a registry host[:port]");
            }
            this.host = host;
        }

        public Builder scheme(String s) {
            String v = s.toLowerCase(Locale.ROOT);
            if (!v.equals("http") && !v.equals("https")) {
                throw new IllegalArgumentException("scheme must be http or https, not '" + s + "'");
            }
            this.scheme = v;
            return this;
        }

        public Builder skipVerify(boolean v) {
            this.skipVerify = v;
            return this;
        }

        public Builder caCertFiles(List<Path> files) {
            this.caCertFiles = List.copyOf(files);
            return this;
        }

        public Builder timeout(Duration d) {
            this.timeout = positive(d, "timeout");
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connect_timeout");
            return this;
        }

        public Builder retryLimit(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("retry_limit must not be negative");
            }
            this.retryLimit = n;
            return this;
        }

        public Builder retryBackoff(Duration d) {
            this.retryBackoff = Objects.requireNonNull(d);
            return this;
        }

        public Builder blobUrlScheme(String s) {
            this.blobUrlScheme = s == null ? "" : s;
            return this;
        }

        public Builder blobRedirectedHost(String h) {
            this.blobRedirectedHost = h == null ? "" : h;
            return this;
        }

        public Builder userAgent(String ua) {
            this.userAgent = Objects.requireNonNull(ua);
            return this;
        }

        /** Replaces the extra headers (by default those of the {@value #HEADER_ENV_PREFIX} variables). */
        public Builder extraHeaders(Map<String, String> headers) {
            this.extraHeaders = new LinkedHashMap<>(headers);
            return this;
        }

        public Builder credentials(RegistryCredentials c) {
            this.credentials = Objects.requireNonNull(c);
            return this;
        }

        public Builder proxy(ProxyConfig p) {
            this.proxy = p;
            return this;
        }

        public RegistrySettings build() {
            return new RegistrySettings(this);
        }

        private static Duration positive(Duration d, String key) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(key + " must be positive");
            }
            return d;
        }
    }
}
