package io.nydus.daemon;

/**
 * Daemon states as upstream serializes them (notes §5.3): INIT → READY (mounted) → RUNNING (serving);
 * RUNNING → READY on stop; READY/INIT → STOPPED on exit. The snapshotter waits for RUNNING.
 */
public enum DaemonState {
    INIT(1), RUNNING(2), READY(3), STOPPED(4), UNKNOWN(5);

    private final int code;

    DaemonState(int code) {
        this.code = code;
    }

    /** Upstream's numeric value (used by the Prometheus gauge). */
    public int code() {
        return code;
    }
}
