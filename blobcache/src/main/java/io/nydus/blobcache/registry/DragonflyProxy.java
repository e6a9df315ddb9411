package io.nydus.blobcache.registry;

import io.nydus.blobcache.ReadPriority;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;

/**
 * A Dragonfly dfdaemon used as an HTTP forward proxy for blob reads (notes §6, upstream {@code docs/nydus-dragonfly.md}).
 * Reads are sent through it to the registry's own URL with the Dragonfly headers; a background task polls
 * {@code ping_url} and reads go straight to the registry while the proxy is unhealthy (with {@code fallback}). A 429
 * from the proxy throttles it for one check interval (or its Retry-After): on-demand reads then go direct under a
 * rate limit, prefetch reads fail at once so that they do not compete with them.
 */
public final class DragonflyProxy implements AutoCloseable {
    public static final String HEADER_PRIORITY = "X-Dragonfly-Priority";
    public static final String HEADER_USE_P2P = "X-Dragonfly-Use-P2P";
    public static final String HEADER_PREFETCH = "X-Dragonfly-Prefetch";
    /** Set to "proxy" on errors the proxy itself produced (as opposed to errors relayed from the registry). */
    public static final String HEADER_ERROR_TYPE = "X-Dragonfly-Error-Type";
    public static final String PRIORITY_ON_DEMAND = "6";
    public static final String PRIORITY_PREFETCH = "3";

    private static final System.Logger LOG = System.getLogger(DragonflyProxy.class.getName());

    /** Where one read goes. */
    enum Route {
        PROXY, DIRECT, DIRECT_LIMITED
    }

    private final ProxyConfig config;
    private final HttpClient client;
    private final HttpClient pingClient;
    private final Duration pingTimeout;
    private final ScheduledExecutorService checker;
    private final DirectReadLimiter limiter;
    private volatile boolean healthy = true;
    private volatile long lastReadNanos = System.nanoTime();
    private volatile long throttledUntilNanos = System.nanoTime();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong pausedChecks = new AtomicLong();

    DragonflyProxy(ProxyConfig config, SSLContext ssl, Duration connectTimeout, HttpClient pingClient) {
        this.config = config;
        this.pingClient = pingClient;
        this.pingTimeout = config.checkInterval().compareTo(connectTimeout) < 0 ? config.checkInterval() : connectTimeout;
        this.limiter = new DirectReadLimiter(config.directReadsPerSecond());
        this.client = RegistryClient.newHttpClient(connectTimeout, ssl,
                ProxySelector.of(new InetSocketAddress(config.url().getHost(), RangeConnections.port(config.url()))));
        this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dragonfly-health-" + config.url().getAuthority());
            t.setDaemon(true);
            return t;
        });
        if (!config.pingUrl().isEmpty()) {
            long every = config.checkInterval().toMillis();
            checker.scheduleWithFixedDelay(this::check, 0, every, TimeUnit.MILLISECONDS);
        }
    }

    public ProxyConfig config() {
        return config;
    }

    /** What the last health check found (true until one fails, and always without a {@code ping_url}). */
    public boolean healthy() {
        return healthy;
    }

    /** Health checks sent to {@code ping_url} so far. */
    public long healthChecks() {
        return checks.get();
    }

    /** Health checks skipped because nothing was read for {@code check_pause_elapsed}. */
    public long pausedHealthChecks() {
        return pausedChecks.get();
    }

    HttpClient client() {
        return client;
    }

    /** Chooses where a read goes now; throws when it must not be attempted at all. */
    Route route(ReadPriority priority, String what) throws IOException {
        lastReadNanos = System.nanoTime();
        if (!healthy) {
            if (config.fallback()) {
                return Route.DIRECT;
            }
            throw RegistryException.failed(what, "Dragonfly proxy " + config.url() + " is unhealthy and fallback is off",
                    null);
        }
        if (System.nanoTime() - throttledUntilNanos < 0) {
            if (priority == ReadPriority.PREFETCH) {
                throw RegistryException.failed(what, "Dragonfly proxy " + config.url()
                        + " is throttling (429); prefetch skipped", null);
            }
            return Route.DIRECT_LIMITED;
        }
        return Route.PROXY;
    }

    /** Waits for permission to read directly while the proxy is throttled. */
    void acquireDirect() throws IOException {
        limiter.acquire();
    }

    /** The proxy answered 429: back off from it for Retry-After seconds, else one check interval. */
    void throttle(Duration retryAfter) {
        Duration d = retryAfter != null ? retryAfter : config.checkInterval();
        throttledUntilNanos = System.nanoTime() + d.toNanos();
        LOG.log(Level.DEBUG, "Dragonfly proxy {0} throttles reads for {1}", config.url(), d);
    }

    /** The proxy could not be reached: with a ping URL, treat it as down until a health check says otherwise. */
    void connectionFailed(IOException e) {
        if (!config.pingUrl().isEmpty() && healthy) {
            healthy = false;
            LOG.log(Level.DEBUG, "Dragonfly proxy {0} unreachable: {1}", config.url(), e.toString());
        }
    }

    /** The URL to ask the proxy for: the registry's own, as http when {@code use_http}. */
    URI target(URI registryUri) {
        if (!config.useHttp() || !"https".equalsIgnoreCase(registryUri.getScheme())) {
            return registryUri;
        }
        try {
            return new URI("http", registryUri.getRawAuthority(), registryUri.getRawPath(), registryUri.getRawQuery(),
                    null).normalize();
        } catch (URISyntaxException e) {
            return registryUri;
        }
    }

    /** Adds the Dragonfly headers for a read of the given priority. */
    static void addHeaders(HttpRequest.Builder b, ReadPriority priority) {
        boolean prefetch = priority == ReadPriority.PREFETCH;
        b.header(HEADER_PRIORITY, prefetch ? PRIORITY_PREFETCH : PRIORITY_ON_DEMAND);
        b.header(HEADER_USE_P2P, "true");
        b.header(HEADER_PREFETCH, Boolean.toString(prefetch));
    }

    private void check() {
        if (System.nanoTime() - lastReadNanos > config.checkPauseElapsed().toNanos()) {
            pausedChecks.incrementAndGet();
            return;
        }
        checks.incrementAndGet();
        boolean ok;
        try {
            HttpResponse<Void> r = pingClient.send(HttpRequest.newBuilder(URI.create(config.pingUrl()))
                    .timeout(pingTimeout).GET().build(), HttpResponse.BodyHandlers.discarding());
            ok = r.statusCode() / 100 == 2;
        } catch (IOException | RuntimeException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (ok != healthy) {
            LOG.log(Level.INFO, "Dragonfly proxy {0} is {1}", config.url(), ok ? "healthy again" : "unhealthy");
        }
        healthy = ok;
    }

    @Override
    public void close() {
        checker.shutdownNow();
    }
}
