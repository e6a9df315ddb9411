package io.nydus.daemon;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The daemon's log: one line per message on stderr or in {@code --log-file}, filtered by a level that
 * {@code PUT /api/v1/daemon {"log_level":…}} can change at run time. Deliberately tiny: the daemon logs a
 * handful of lifecycle lines at {@code info}, per-request detail only at {@code debug}/{@code trace}.
 */
public final class NydusdLog {
    /** Upstream level names, most verbose first; "off" silences everything. */
    public enum Level {
        TRACE, DEBUG, INFO, WARN, ERROR, OFF;

        public static Level parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid log level '" + s
                        + "': expected trace, debug, info, warn, error or off");
            }
        }
    }

    public static final Level DEFAULT_LEVEL = Level.INFO;

    /** Warnings and errors kept for {@code GET /api/v1/daemon/events}. */
    private static final int EVENTS = 100;
    private static final ArrayDeque<String[]> RECENT = new ArrayDeque<>();

    private static volatile Level level = DEFAULT_LEVEL;
    private static volatile PrintStream out = new PrintStream(new FileOutputStream(java.io.FileDescriptor.err), true,
            StandardCharsets.UTF_8);

    private NydusdLog() {
    }

    public static void setLevel(Level l) {
        level = l;
    }

    /** Appends to {@code file} (upstream: ".log" is added when the name has no extension). */
    public static void toFile(Path file) throws IOException {
        Path f = file;
        String name = f.getFileName().toString();
        if (!name.contains(".")) {
            f = f.resolveSibling(name + ".log");
        }
        OutputStream os = new FileOutputStream(f.toFile(), true);
        out = new PrintStream(os, true, StandardCharsets.UTF_8);
    }

    public static boolean enabled(Level l) {
        return l.ordinal() >= level.ordinal() && l != Level.OFF;
    }

    public static boolean debugEnabled() {
        return enabled(Level.DEBUG);
    }

    public static void error(String fmt, Object... args) {
        log(Level.ERROR, fmt, args);
    }

    public static void warn(String fmt, Object... args) {
        log(Level.WARN, fmt, args);
    }

    public static void info(String fmt, Object... args) {
        log(Level.INFO, fmt, args);
    }

    public static void debug(String fmt, Object... args) {
        log(Level.DEBUG, fmt, args);
    }

    /** Logs a failure; the stack trace only at debug and trace. */
    public static void error(Throwable t, String fmt, Object... args) {
        log(Level.ERROR, fmt, args);
        if (debugEnabled()) {
            t.printStackTrace(out);
        }
    }

    private static void log(Level l, String fmt, Object... args) {
        boolean event = l == Level.WARN || l == Level.ERROR;
        if (!enabled(l) && !event) {
            return;
        }
        String msg = args.length == 0 ? fmt : String.format(Locale.ROOT, fmt, args);
        String now = Instant.now().toString();
        if (event) {
            synchronized (RECENT) {
                if (RECENT.size() == EVENTS) {
                    RECENT.removeFirst();
                }
                RECENT.addLast(new String[] {now, l.name(), msg});
            }
        }
        if (enabled(l)) {
            out.println("[" + now + " " + l.name() + "] " + msg);
        }
    }

    /** {@code s} up to its first newline (all of it when it has none); {@code s} must not be null. */
    static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The latest warnings and errors, oldest first: {time, level, message}. */
    public static List<String[]> recentEvents() {
        synchronized (RECENT) {
            return new ArrayList<>(RECENT);
        }
    }
}
