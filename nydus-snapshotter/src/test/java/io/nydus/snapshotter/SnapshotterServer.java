package io.nydus.snapshotter;

import io.nydus.testdata.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The snapshotter as a user runs it: {@code bin/containerd-nydus-grpc} with the given flags. The launcher is told
 * to use the test's class path (NYDUS_SNAPSHOTTER_CLASSPATH) because {@code mvn test} runs before the jar exists.
 */
final class SnapshotterServer implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path log;

    private SnapshotterServer(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static Path launcher() {
        return Project.root().resolve("bin/containerd-nydus-grpc");
    }

    /** Starts the snapshotter serving {@code socket}; {@code log} receives its output (appended). */
    static SnapshotterServer start(Path socket, Path log, String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(launcher().toString(), "--address", socket.toString()));
        cmd.addAll(List.of(flags));
        Files.deleteIfExists(socket);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("NYDUS_SNAPSHOTTER_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("snapshotter exited " + p.exitValue() + ": " + Files.readString(log));
            }
            if (Files.exists(socket)) {
                return new SnapshotterServer(p, socket, log);
            }
            Cmd.sleep(50);
        }
        p.destroyForcibly();
        throw new IOException("snapshotter did not listen on " + socket + ": " + Files.readString(log));
    }

    long pid() {
        return process.pid();
    }

    Path socket() {
        return socket;
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** Waits up to 30 s for {@code text} in the log; the log, whether or not it came. */
    String awaitLog(String text) throws IOException, InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (!log().contains(text) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        return log();
    }

    /** SIGKILL: no shutdown hook runs, as when the node's snapshotter crashes. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        Cmd.stop(process);
    }
}
