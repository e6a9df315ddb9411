package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion; non-zero exit → IOException carrying its output. */
final class Cmd {
    private Cmd() {
    }

    record Result(int exit, String out) {
    }

    static String run(String... cmd) throws IOException {
        Result r = exec(List.of(cmd), 300);
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.out().strip());
        }
        return r.out();
    }

    static Result exec(List<String> cmd, int timeoutSeconds) throws IOException {
        return exec(cmd, Map.of(), timeoutSeconds);
    }

    /** Runs {@code cmd} with {@code env} added to this process's environment. */
    static Result exec(List<String> cmd, Map<String, String> env, int timeoutSeconds) throws IOException {
        Path out = Files.createTempFile("cmd-", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", cmd) + " timed out after " + timeoutSeconds + " s: "
                        + Files.readString(out, StandardCharsets.UTF_8).strip());
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** SIGTERM, then SIGKILL if {@code p} is still there after 10 s. */
    static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
