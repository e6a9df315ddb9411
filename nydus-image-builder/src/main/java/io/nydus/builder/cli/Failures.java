package io.nydus.builder.cli;

import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/** Turns exceptions into the one-line messages users see. */
final class Failures {
    private Failures() {
    }

    static String message(Throwable t) {
        if (t instanceof NoSuchFileException n) {
            return n.getFile() + ": no such file";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }

    /** Stack traces are shown only at log level debug or trace. */
    static boolean debug(CommandLine cmd) {
        Object user = cmd.getCommand();
        if (user instanceof LoggingOptions.Holder h) {
            return h.logging().debug();
        }
        return false;
    }
}
