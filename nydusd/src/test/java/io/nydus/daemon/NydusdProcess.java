package io.nydus.daemon;

import io.nydus.testdata.Project;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A nydusd started through the launcher {@code bin/nydusd} as a child process, the way the snapshotter and
 * users start it. Closing it stops the process and unmounts whatever it left behind.
 */
final class NydusdProcess implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final List<Path> mountpoints = new ArrayList<>();

    private NydusdProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * The classes this build compiled and their runtime dependencies: tests run before {@code package} makes
     * the jar the launcher normally runs, and must not test a stale one.
     */
    static String freshClasspath() throws IOException {
        Path target = Project.root().resolve("nydusd/target");
        Path deps = target.resolve("runtime-classpath.txt");
        if (!Files.isDirectory(target.resolve("classes")) || !Files.exists(deps)) {
            return null;
        }
        return target.resolve("classes") + ":" + Files.readString(deps).trim();
    }

    static Path launcher() {
        return Project.root().resolve("bin/nydusd");
    }

    /** Starts {@code bin/nydusd args…} with output captured in files under {@code dir}. */
    static NydusdProcess start(Path dir, List<String> args) throws IOException {
        return start(dir, args, Map.of());
    }

    static NydusdProcess start(Path dir, List<String> args, Map<String, String> env) throws IOException {
        Files.createDirectories(dir);
        Path out = Files.createTempFile(dir, "nydusd", ".out");
        Path err = Files.createTempFile(dir, "nydusd", ".err");
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        String cp = freshClasspath();
        if (cp != null) {
            pb.environment().put("NYDUSD_CLASSPATH", cp);
        }
        pb.environment().putAll(env);
        NydusdProcess p = new NydusdProcess(pb.start(), out, err);
        for (int i = 0; i < args.size() - 1; i++) {
            if (args.get(i).equals("--mountpoint") || args.get(i).equals("-M")) {
                p.mountpoints.add(Path.of(args.get(i + 1)));
            }
        }
        return p;
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    /** Also unmount {@code dir} at close (mounts made through the API in singleton mode). */
    void cleanUp(Path dir) {
        mountpoints.add(dir);
    }

    String stderr() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }

    String stdout() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    /** Waits until {@code dir} is a mountpoint; fails with the daemon's stderr if it exits first. */
    void awaitMounted(Path dir) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!MountInfo.isMounted(dir)) {
            if (!process.isAlive()) {
                throw new AssertionError("nydusd exited with " + process.exitValue() + ": " + stderr());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no mount at " + dir + " after " + START_TIMEOUT + ": " + stderr());
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the API answers with the given state. */
    void awaitState(Path socket, String state) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        UnixHttp api = new UnixHttp(socket);
        String last = "";
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("nydusd exited with " + process.exitValue() + ": " + stderr());
            }
            if (Files.exists(socket)) {
                try {
                    UnixHttp.Response r = api.get(ApiServer.DAEMON);
                    last = r.body();
                    if (r.status() == 200 && r.json().get("state").asText().equals(state)) {
                        return;
                    }
                } catch (IOException e) {
                    last = e.toString();
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("state " + state + " not reached: " + last + " " + stderr());
            }
            Thread.sleep(20);
        }
    }

    /** Waits for the exit code. */
    int awaitExit(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("nydusd still running after " + timeout + ": " + stderr());
        }
        return process.exitValue();
    }

    /** Sends SIGTERM and waits for the exit code. */
    int awaitExitAfterTerm() throws Exception {
        signal("TERM");
        return awaitExit(Duration.ofSeconds(30));
    }

    void signal(String name) throws IOException {
        MountInfo.run(List.of("kill", "-" + name, Long.toString(process.pid())));
    }

    /** Resident set size in KiB, from /proc. */
    long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(15, TimeUnit.SECONDS);
            }
        }
        for (Path mp : mountpoints) {
            MountInfo.forceUnmount(mp);
        }
    }
}
