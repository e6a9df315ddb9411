package io.nydus.blobcache.registry;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code proxy} object of the registry backend (notes §5.2, §6): a Dragonfly dfdaemon acting as an HTTP forward
 * proxy for blob reads.
 *
 * @param url               the proxy, "http://host:port"
 * @param pingUrl           health endpoint of the proxy, polled every {@code checkInterval}; empty = never checked
 * @param fallback          read straight from the registry while the proxy is unhealthy or failing
 * @param checkInterval     time between health checks
 * @param useHttp           ask the proxy for "http://" registry URLs even when the registry is https (so the proxy
 *                          sees plain requests instead of a CONNECT tunnel)
 * @param checkPauseElapsed health checks pause after this long without reads
 * @param directReadsPerSecond registry reads per second allowed while the proxy throttles (answers 429); not an
 *                          upstream key
 */
public record ProxyConfig(URI url, String pingUrl, boolean fallback, Duration checkInterval, boolean useHttp,
        Duration checkPauseElapsed, double directReadsPerSecond) {

    public static final boolean DEFAULT_FALLBACK = true;
    public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CHECK_PAUSE_ELAPSED = Duration.ofSeconds(300);
    public static final double DEFAULT_DIRECT_READS_PER_SECOND = 50;

    public ProxyConfig {
        Objects.requireNonNull(url, "url");
        if (url.getHost() == null || url.getPort() == 0) {
            throw new IllegalArgumentException("proxy.url '" + url + "' has no host");
        }
        pingUrl = pingUrl == null ? "" : pingUrl;
        if (checkInterval.isNegative() || checkInterval.isZero()) {
            throw new IllegalArgumentException("proxy.check_interval must be positive");
        }
        if (!(directReadsPerSecond > 0)) {
            throw new IllegalArgumentException("direct reads per second must be positive");
        }
    }

    /** A proxy with upstream defaults for everything but the URL. */
    public static ProxyConfig of(String url) {
        return new ProxyConfig(URI.create(url), "", DEFAULT_FALLBACK, DEFAULT_CHECK_INTERVAL, false,
                DEFAULT_CHECK_PAUSE_ELAPSED, DEFAULT_DIRECT_READS_PER_SECOND);
    }

    public ProxyConfig withPingUrl(String ping) {
        return new ProxyConfig(url, ping, fallback, checkInterval, useHttp, checkPauseElapsed, directReadsPerSecond);
    }

    public ProxyConfig withFallback(boolean f) {
        return new ProxyConfig(url, pingUrl, f, checkInterval, useHttp, checkPauseElapsed, directReadsPerSecond);
    }

    public ProxyConfig withCheckInterval(Duration d) {
        return new ProxyConfig(url, pingUrl, fallback, d, useHttp, checkPauseElapsed, directReadsPerSecond);
    }

    public ProxyConfig withUseHttp(boolean u) {
        return new ProxyConfig(url, pingUrl, fallback, checkInterval, u, checkPauseElapsed, directReadsPerSecond);
    }

    public ProxyConfig withCheckPauseElapsed(Duration d) {
        return new ProxyConfig(url, pingUrl, fallback, checkInterval, useHttp, d, directReadsPerSecond);
    }

    public ProxyConfig withDirectReadsPerSecond(double rate) {
        return new ProxyConfig(url, pingUrl, fallback, checkInterval, useHttp, checkPauseElapsed, rate);
    }
}
