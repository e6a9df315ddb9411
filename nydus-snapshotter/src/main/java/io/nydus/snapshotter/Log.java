package io.nydus.snapshotter;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The snapshotter's log: one line per event on stderr (stdout with {@code --log-to-stdout}), at upstream's levels.
 * Quiet by default: at {@code info} only nydusd lifecycle events are written; requests are logged at debug.
 */
public final class Log {
    /** Levels in upstream's (logrus) order. */
    public enum Level { TRACE, DEBUG, INFO, WARN, ERROR }

    private static volatile Level threshold = Level.INFO;
    private static volatile PrintStream out = System.err;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");

    private Log() {
    }

    /** Parses an upstream level name; IllegalArgumentException naming the accepted ones otherwise. */
    public static Level parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.equals("WARNING")) {
            n = "WARN";
        }
        try {
            return Level.valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid log level \"" + name + "\" (trace, debug, info, warn, error)");
        }
    }

    public static void configure(Level level, PrintStream stream) {
        threshold = level;
        out = stream;
    }

    public static boolean enabled(Level level) {
        return level.compareTo(threshold) >= 0;
    }

    public static void debug(String format, Object... args) {
        write(Level.DEBUG, format, args);
    }

    public static void info(String format, Object... args) {
        write(Level.INFO, format, args);
    }

    public static void warn(String format, Object... args) {
        write(Level.WARN, format, args);
    }

    public static void error(String format, Object... args) {
        write(Level.ERROR, format, args);
    }

    private static void write(Level level, String format, Object... args) {
        if (enabled(level)) {
            String msg = args.length == 0 ? format : String.format(Locale.ROOT, format, args);
            out.println(LocalDateTime.now().format(TIME) + " " + level.name().toLowerCase(Locale.ROOT) + " " + msg);
        }
    }
}
