package io.nydus.builder.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Upstream's global {@code -l/--log-level} and {@code -L/--log-file}. */
final class LoggingOptions {
    @Option(names = {"-l", "--log-level"}, defaultValue = "info",
            description = "Log level: trace, debug, info, warn, error (default: ${DEFAULT-VALUE}).")
    String level;

    @Option(names = {"-L", "--log-file"}, description = "Write logs to this file instead of stderr.")
    Path file;

    boolean debug() {
        return level.equals("debug") || level.equals("trace");
    }

    boolean warnings() {
        return !level.equals("error");
    }

    /** Commands that carry these options. */
    interface Holder {
        LoggingOptions logging();
    }

    void log(java.io.PrintWriter err, String line) {
        if (file != null) {
            try {
                java.nio.file.Files.writeString(file, line + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
                return;
            } catch (java.io.IOException e) {
                // fall back to stderr
            }
        }
        err.println(line);
    }
}
