package io.nydus.blobcache.registry;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff between retries: base, 2×base, 4×base … capped, each scaled by a random 50–100%. */
final class RetryBackoff {
    private static final long CAP_NANOS = Duration.ofSeconds(10).toNanos();

    private final long baseNanos;

    RetryBackoff(Duration base) {
        this.baseNanos = base.toNanos();
    }

    /** Sleeps before retry number {@code retry} (0-based), at least {@code atLeast} when a server asked for it. */
    void pause(int retry, Duration atLeast) throws InterruptedIOException {
        long d = Math.min(CAP_NANOS, baseNanos << Math.min(retry, 20));
        d = (long) (d * (0.5 + 0.5 * ThreadLocalRandom.current().nextDouble()));
        if (atLeast != null) {
            d = Math.max(d, Math.min(CAP_NANOS, atLeast.toNanos()));
        }
        try {
            Thread.sleep(d / 1_000_000, (int) (d % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }
}
