package io.nydus.nydusify;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-layer progress on stderr. On a terminal one status line is redrawn a few times a second (bytes, rate, ETA of
 * every active task); otherwise each task prints one plain line when it ends. Silent when quiet.
 */
public final class Progress implements AutoCloseable {
    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintWriter out;
    private final boolean terminal;
    private final boolean quiet;
    private final List<Task> active = new CopyOnWriteArrayList<>();
    private final Thread painter;
    private volatile boolean closed;
    private boolean lineDirty;

    public Progress(PrintWriter out, boolean terminal, boolean quiet) {
        this.out = out;
        this.terminal = terminal && !quiet;
        this.quiet = quiet;
        if (this.terminal) {
            painter = new Thread(this::paintLoop, "nydusify-progress");
            painter.setDaemon(true);
            painter.start();
        } else {
            painter = null;
        }
    }

    /** Prints a message line (not when quiet). */
    public synchronized void info(String line) {
        if (quiet) {
            return;
        }
        clearLine();
        out.println(line);
        out.flush();
    }

    public Task start(String label, long total) {
        Task t = new Task(label, total);
        active.add(t);
        return t;
    }

    /** One unit of work with a byte count. */
    public final class Task {
        private final String label;
        private final long total;
        private final long startNanos = System.nanoTime();
        private final AtomicLong done = new AtomicLong();

        Task(String label, long total) {
            this.label = label;
            this.total = total;
        }

        /** Sets the bytes processed so far. */
        public void update(long bytes) {
            done.set(bytes);
        }

        /** Ends the task, printing {@code summary} after its label. */
        public void finish(String summary) {
            active.remove(this);
            info(label + ": " + summary);
        }

        /** Ends the task without a line (an error is reported elsewhere). */
        public void abandon() {
            active.remove(this);
        }

        public double seconds() {
            return (System.nanoTime() - startNanos) / 1e9;
        }

        String status() {
            long d = done.get();
            double s = Math.max(seconds(), 1e-3);
            double rate = d / s;
            StringBuilder b = new StringBuilder(label).append(' ').append(bytes(d));
            if (total > 0) {
                b.append('/').append(bytes(total));
            }
            b.append(' ').append(bytes((long) rate)).append("/s");
            if (total > 0 && rate > 0 && d < total) {
                b.append(" ETA ").append(Math.round((total - d) / rate)).append('s');
            }
            return b.toString();
        }
    }

    private void paintLoop() {
        while (!closed) {
            try {
                Thread.sleep(REDRAW_NANOS / 1_000_000);
            } catch (InterruptedException e) {
                return;
            }
            paint();
        }
    }

    private synchronized void paint() {
        List<String> parts = new ArrayList<>();
        for (Task t : active) {
            parts.add(t.status());
        }
        if (parts.isEmpty()) {
            clearLine();
            return;
        }
        out.print("\r\033[K" + String.join(" | ", parts));
        out.flush();
        lineDirty = true;
    }

    private void clearLine() {
        if (lineDirty) {
            out.print("\r\033[K");
            lineDirty = false;
        }
    }

    /** "63.7 MB" (decimal units, as registries and skopeo print sizes). */
    public static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        if (n < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        }
        if (n < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (painter != null) {
            painter.interrupt();
        }
        clearLine();
        out.flush();
    }
}
