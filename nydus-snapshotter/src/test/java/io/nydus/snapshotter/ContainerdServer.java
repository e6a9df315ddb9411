package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A private containerd (Debian's 1.6 + runc) for one test: root, state and socket under the test's directory, the
 * CRI plugin off, and a proxy snapshotter named {@code nydus} at the given socket. Never touches the system's
 * containerd configuration or /run/containerd.
 */
final class ContainerdServer implements AutoCloseable {
    static final String NAMESPACE = "test";

    private final Path dir;
    private final Process process;

    private ContainerdServer(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    static ContainerdServer start(Path dir, Path snapshotterSocket) throws IOException {
        Files.createDirectories(dir);
        Path config = dir.resolve("containerd.toml");
        Files.writeString(config, "version = 2\n"
                + "root = \"" + dir.resolve("root") + "\"\n"
                + "state = \"" + dir.resolve("state") + "\"\n"
                + "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                + "[grpc]\n  address = \"" + dir.resolve("containerd.sock") + "\"\n"
                + "[ttrpc]\n  address = \"" + dir.resolve("containerd.sock.ttrpc") + "\"\n"
                + "[debug]\n  address = \"" + dir.resolve("debug.sock") + "\"\n"
                + "[proxy_plugins]\n  [proxy_plugins.nydus]\n    type = \"snapshot\"\n"
                + "    address = \"" + snapshotterSocket + "\"\n");
        Process p = new ProcessBuilder("containerd", "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("containerd.log").toFile()).start();
        ContainerdServer c = new ContainerdServer(dir, p);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("containerd exited: " + Files.readString(dir.resolve("containerd.log")));
            }
            if (Files.exists(c.socket()) && Cmd.exec(c.ctrCommand("version"), 10).exit() == 0) {
                return c;
            }
            Cmd.sleep(100);
        }
        c.close();
        throw new IOException("containerd did not start: " + Files.readString(dir.resolve("containerd.log")));
    }

    Path socket() {
        return dir.resolve("containerd.sock");
    }

    Path log() {
        return dir.resolve("containerd.log");
    }

    private List<String> ctrCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ctr", "--address", socket().toString(), "-n", NAMESPACE));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code ctr -a SOCK -n test ARGS}; returns its output, IOException with it on failure. */
    String ctr(String... args) throws IOException {
        Cmd.Result r = Cmd.exec(ctrCommand(args), 300);
        if (r.exit() != 0) {
            throw new IOException("ctr " + String.join(" ", args) + " exited " + r.exit() + ": " + r.out().strip());
        }
        return r.out();
    }

    Cmd.Result ctrResult(String... args) throws IOException {
        return Cmd.exec(ctrCommand(args), 300);
    }

    /** Starts {@code ctr run} in the background (a long-running container); its output goes to {@code out}. */
    Process ctrRunDetached(Path out, String... args) throws IOException {
        List<String> cmd = ctrCommand("run");
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    /** Kills the tasks of the test namespace, then containerd itself. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                for (String line : Cmd.exec(ctrCommand("tasks", "ls", "-q"), 20).out().split("\n")) {
                    String id = line.trim();
                    if (!id.isEmpty()) {
                        Cmd.exec(ctrCommand("tasks", "kill", "-s", "SIGKILL", id), 20);
                        Cmd.exec(ctrCommand("tasks", "delete", "-f", id), 20);
                    }
                }
            }
        } catch (IOException e) {
            // containerd is going away anyway; Leftovers kills what remains
        }
        Cmd.stop(process);
    }
}
