package io.nydus.snapshotter;

import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A registry, the snapshotter and a containerd using it as proxy snapshotter {@code nydus}, all under one test
 * directory. {@link #close} stops everything and removes leftover processes and mounts, also after a failure.
 */
final class TestBed implements AutoCloseable {
    /** The main class {@code bin/nydusd} runs: how its processes are recognised. */
    static final String NYDUSD_MAIN = "io.nydus.daemon.Nydusd";

    final Path dir;
    final Path root;
    final Path socket;
    final RegistryServer registry;
    final ContainerdServer containerd;
    private final List<String> flags;
    private SnapshotterServer snapshotter;

    private TestBed(Path dir, RegistryServer registry, SnapshotterServer snapshotter, ContainerdServer containerd,
            List<String> flags) {
        this.dir = dir;
        this.root = dir.resolve("sroot");
        this.socket = dir.resolve("snapshotter/nydus.sock");
        this.registry = registry;
        this.snapshotter = snapshotter;
        this.containerd = containerd;
        this.flags = flags;
    }

    /** Starts all three; {@code flags} go to the snapshotter after {@code --root} and {@code --address}. */
    static TestBed start(Path dir, String... flags) throws IOException {
        return start(dir, RegistryServer.start(dir.resolve("registry")), flags);
    }

    /** Like {@link #start(Path, String...)} with a registry the caller started (closed with the bed). */
    static TestBed start(Path dir, RegistryServer registry, String... flags) throws IOException {
        SnapshotterServer snapshotter = null;
        try {
            Path socket = dir.resolve("snapshotter/nydus.sock");
            Files.createDirectories(socket.getParent());
            List<String> all = new ArrayList<>(List.of("--root", dir.resolve("sroot").toString()));
            all.addAll(List.of(flags));
            snapshotter = SnapshotterServer.start(socket, dir.resolve("snapshotter.log"), all.toArray(String[]::new));
            ContainerdServer containerd = ContainerdServer.start(dir.resolve("containerd"), socket);
            return new TestBed(dir, registry, snapshotter, containerd, all);
        } catch (IOException | RuntimeException e) {
            if (snapshotter != null) {
                snapshotter.close();
            }
            registry.close();
            Leftovers.clean(dir);
            throw e;
        }
    }

    SnapshotterServer snapshotter() {
        return snapshotter;
    }

    /**
     * SIGKILLs the snapshotter (no cleanup of its own runs) and starts it again with the same flags. containerd's
     * connection to a proxy plugin that went away fails calls with "unavailable" until its reconnect backoff
     * (1 s, growing) lets it dial again; like any client, wait for that.
     */
    void crashAndRestartSnapshotter() throws IOException, InterruptedException {
        snapshotter.kill();
        snapshotter = SnapshotterServer.start(socket, dir.resolve("snapshotter.log"), flags.toArray(String[]::new));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            Cmd.Result r = containerd.ctrResult("snapshots", "--snapshotter", "nydus", "ls");
            if (r.exit() == 0) {
                return;
            }
            if (!r.out().contains("unavailable") || System.nanoTime() > deadline) {
                throw new IOException("containerd cannot reach the restarted snapshotter: " + r.out());
            }
            Thread.sleep(200);
        }
    }

    String ctr(String... args) throws IOException {
        return containerd.ctr(args);
    }

    /**
     * {@code bin/containerd-nydus-grpc pull --address <containerd> --namespace test --plain-http [FLAGS] REF}, the
     * launcher run as a user runs it; returns its output, IOException with it on failure.
     */
    String pull(String ref, String... flags) throws IOException {
        Cmd.Result r = pullResult(Map.of(), ref, flags);
        if (r.exit() != 0) {
            throw new IOException("pull " + ref + " exited " + r.exit() + ": " + r.out().strip());
        }
        return r.out();
    }

    /** {@link #pull} with {@code env} added to its environment; the exit status and output whatever they are. */
    Cmd.Result pullResult(Map<String, String> env, String ref, String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(SnapshotterServer.launcher().toString(), "pull", "--address",
                containerd.socket().toString(), "--namespace", ContainerdServer.NAMESPACE, "--plain-http"));
        cmd.addAll(List.of(flags));
        cmd.add(ref);
        Map<String, String> all = new HashMap<>(env);
        all.put("NYDUS_SNAPSHOTTER_CLASSPATH", System.getProperty("java.class.path"));
        return Cmd.exec(cmd, all, 300);
    }

    /** The pids of the real nydusd processes the snapshotter started for this bed. */
    List<Long> nydusds() {
        return Leftovers.processesUnder(root).stream().filter(p -> commandLine(p).contains(NYDUSD_MAIN)).toList();
    }

    /** nydusd's own arguments (after its main class) in the command line of process {@code pid}. */
    static String nydusdArguments(long pid) {
        String c = commandLine(pid);
        int at = c.indexOf(NYDUSD_MAIN);
        return at < 0 ? "" : c.substring(at + NYDUSD_MAIN.length()).strip();
    }

    private static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code ctr run --rm --snapshotter nydus IMAGE ID /bin/sh -c SCRIPT}; returns what the container printed. */
    String run(String image, String id, String script) throws IOException {
        return ctr("run", "--rm", "--snapshotter", "nydus", image, id, "/bin/sh", "-c", script);
    }

    /** Snapshot keys as {@code ctr snapshots --snapshotter nydus ls} prints them, with kinds. */
    List<String> snapshots() throws IOException {
        List<String> rows = new ArrayList<>();
        for (String line : ctr("snapshots", "--snapshotter", "nydus", "ls").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && !f[0].equals("KEY")) {
                rows.add(f[0] + " " + f[f.length - 1]);
            }
        }
        rows.sort(null);
        return rows;
    }

    /** Everything useful when a test fails: the snapshotter's, containerd's and every nydusd's logs. */
    String diagnostics() {
        StringBuilder b = new StringBuilder();
        List<Path> logs = new ArrayList<>(List.of(dir.resolve("snapshotter.log"), containerd.log()));
        try (var daemons = Files.walk(root.resolve("logs"))) {
            daemons.filter(Files::isRegularFile).forEach(logs::add);
        } catch (IOException e) {
            // no nydusd was started
        }
        for (Path p : logs) {
            try {
                String s = Files.readString(p);
                b.append("\n--- ").append(p).append('\n').append(s.length() > 6000 ? s.substring(s.length() - 6000) : s);
            } catch (IOException e) {
                b.append("\n--- ").append(p).append(": ").append(e.getMessage());
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        try {
            containerd.close();
        } finally {
            try {
                snapshotter.close();
            } finally {
                Leftovers.clean(dir);
                registry.close();
            }
        }
    }
}
