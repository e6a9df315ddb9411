package io.nydus.blobcache.registry;

/**
 * When bytes last moved on one request attempt, in either direction. A request fails as stalled when nothing moved
 * for the configured timeout: a long upload or a large body is fine as long as it keeps moving.
 */
final class Activity {
    private volatile long lastNanos = System.nanoTime();

    void touch() {
        lastNanos = System.nanoTime();
    }

    long idleNanos() {
        return System.nanoTime() - lastNanos;
    }
}
