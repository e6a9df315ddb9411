package io.nydus.daemon;

import java.util.Locale;

/**
 * Rate-limits warnings of a failure that repeats per request (a backend that is down fails every read):
 * at most one line per interval, with the number of similar failures left out since the last line.
 */
final class ErrorThrottle {
    static final long INTERVAL_MILLIS = 5000;

    private long lastMillis;
    private long suppressed;

    void warn(String fmt, Object... args) {
        if (NydusdLog.debugEnabled()) {
            NydusdLog.debug(fmt, args);
            return;
        }
        long now = System.currentTimeMillis();
        long skipped;
        synchronized (this) {
            if (now - lastMillis < INTERVAL_MILLIS) {
                suppressed++;
                return;
            }
            lastMillis = now;
            skipped = suppressed;
            suppressed = 0;
        }
        String msg = String.format(Locale.ROOT, fmt, args);
        NydusdLog.warn("%s%s", msg, skipped > 0 ? " (" + skipped + " similar errors not shown)" : "");
    }
}
