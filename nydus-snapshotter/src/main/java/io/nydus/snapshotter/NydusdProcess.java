package io.nydus.snapshotter;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One nydusd process: started by this snapshotter, or adopted from a previous snapshotter run through its
 * record (pid + start time, API socket). It is never tied to the snapshotter's life: output goes to a file, not
 * a pipe, so a killed snapshotter leaves it serving.
 */
public final class NydusdProcess {
    private final NydusdRecord record;
    private final ProcessHandle handle;
    private final NydusdClient client;

    private NydusdProcess(NydusdRecord record, ProcessHandle handle) {
        this.record = record;
        this.handle = handle;
        this.client = new NydusdClient(Path.of(record.apiSock()), Duration.ofSeconds(5));
    }

    /** Starts {@code record.command()}; the returned process's record carries the new pid. */
    public static NydusdProcess spawn(NydusdRecord record) throws IOException {
        return spawn(record, List.of());
    }

    /** Starts {@code record.command()} plus {@code extra} arguments (not recorded: a later restart omits them). */
    public static NydusdProcess spawn(NydusdRecord record, List<String> extra) throws IOException {
        Path log = Path.of(record.logFile());
        Files.createDirectories(log.getParent());
        Files.createDirectories(Path.of(record.apiSock()).getParent());
        Files.deleteIfExists(Path.of(record.apiSock()));
        Process p;
        try {
            List<String> command = new ArrayList<>(record.command());
            command.addAll(extra);
            p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new IOException("cannot start nydusd " + record.command().get(0) + ": " + e.getMessage(), e);
        }
        ProcessHandle h = p.toHandle();
        return new NydusdProcess(record.withProcess(h.pid(), startMillis(h)), h);
    }

    /** The process of a record written by an earlier run, if that very process still exists. */
    public static NydusdProcess adopt(NydusdRecord record) {
        ProcessHandle h = ProcessHandle.of(record.pid()).orElse(null);
        if (h != null && record.startMillis() != 0 && Math.abs(startMillis(h) - record.startMillis()) > 1000) {
            h = null; // the pid now belongs to another process
        }
        return new NydusdProcess(record, h);
    }

    private static long startMillis(ProcessHandle h) {
        return h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /** The same process under an updated record (instances added or removed). */
    public NydusdProcess with(NydusdRecord updated) {
        return new NydusdProcess(updated, handle);
    }

    public NydusdRecord record() {
        return record;
    }

    public NydusdClient client() {
        return client;
    }

    /** Alive and not a zombie waiting to be reaped by an init that does not reap. */
    public boolean alive() {
        if (handle == null || !handle.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + handle.pid() + "/stat"));
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until the API reports {@code RUNNING}; fails early when the process exits, with its log's tail. */
    public void awaitRunning(Duration timeout) throws IOException {
        awaitState("RUNNING", timeout);
    }

    /** Waits until the API reports {@code wanted}; fails early when the process exits, with its log's tail. */
    public void awaitState(String wanted, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no API socket yet";
        while (System.nanoTime() < deadline) {
            if (!alive()) {
                throw new IOException("nydusd " + record.id() + " exited before reaching " + wanted + logTail());
            }
            if (Files.exists(Path.of(record.apiSock()))) {
                try {
                    String state = client.state();
                    if (state.equals(wanted)) {
                        return;
                    }
                    last = "state " + state;
                } catch (IOException e) {
                    last = e.getMessage();
                }
            }
            sleep(50);
        }
        throw new IOException("nydusd " + record.id() + " did not reach " + wanted + " within " + timeout.toSeconds()
                + " s (" + last + ")" + logTail());
    }

    /** SIGTERM, then SIGKILL after a grace period; mounts are the caller's to clean. */
    public void stop(Duration grace) {
        if (!alive()) {
            return;
        }
        handle.destroy();
        if (!awaitExit(grace)) {
            handle.destroyForcibly();
            awaitExit(Duration.ofSeconds(5));
        }
    }

    /** Polls rather than {@code onExit()}: an adopted process may linger as a zombie no one reaps. */
    private boolean awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!alive()) {
                return true;
            }
            sleep(20);
        }
        return !alive();
    }

    private String logTail() {
        Path log = Path.of(record.logFile());
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - 600);
            byte[] b = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(b);
            String tail = new String(b, StandardCharsets.UTF_8).strip().replace('\n', ' ');
            return tail.isEmpty() ? "" : "; log " + log + ": …" + tail;
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
