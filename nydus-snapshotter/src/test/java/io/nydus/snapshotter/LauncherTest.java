package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/containerd-nydus-grpc as a user meets it: complete --help, one-line errors with exit 1. */
class LauncherTest {
    @TempDir
    Path dir;

    private static Cmd.Result launch(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(SnapshotterServer.launcher().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("NYDUS_SNAPSHOTTER_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Cmd.Result(p.exitValue(), out);
    }

    @Test
    void helpListsEveryFlag() throws Exception {
        Cmd.Result r = launch("--help");
        assertEquals(0, r.exit(), r.out());
        for (String flag : new String[] {"--root", "--address", "--config", "--nydusd-config", "--nydusd",
            "--nydus-image", "--daemon-mode", "--fs-driver", "--log-level", "--log-to-stdout", "--version",
            "--help"}) {
            assertTrue(r.out().contains(flag), flag + " missing from --help:\n" + r.out());
        }
        assertTrue(r.out().contains("config.toml keys"), r.out());
        assertEquals(0, launch("--version").exit());
    }

    @Test
    void pullHelpListsEveryFlag() throws Exception {
        Cmd.Result r = launch("pull", "--help");
        assertEquals(0, r.exit(), r.out());
        for (String flag : new String[] {"--address", "--namespace", "--snapshotter", "--plain-http", "--skip-verify",
            "--user", "--platform", "--help", "REF"}) {
            assertTrue(r.out().contains(flag), flag + " missing from pull --help:\n" + r.out());
        }
        assertTrue(launch("--help").out().contains("pull  Pull an image"), "the subcommand is listed");
    }

    @Test
    void badPullInputIsOneLineAndExitOne() throws Exception {
        String[][] cases = {
            {"pull"},
            {"pull", "--bogus", "a/b"},
            {"pull", "--address", dir.resolve("none.sock").toString(), "127.0.0.1:1/a/b:c"},
            {"pull", "--address", dir.resolve("none.sock").toString(), "UPPER/case"},
            {"pull", "--address", dir.resolve("none.sock").toString(), "--platform", "linux", "a/b"},
            {"pull", "--address", dir.resolve("none.sock").toString(), "--user", ":pw", "a/b"},
        };
        for (String[] args : cases) {
            Cmd.Result r = launch(args);
            assertEquals(1, r.exit(), String.join(" ", args) + ": " + r.out());
            assertEquals(1, r.out().strip().lines().count(), String.join(" ", args) + ": " + r.out());
            assertTrue(r.out().startsWith("containerd-nydus-grpc: "), r.out());
        }
        assertTrue(launch(cases[2]).out().contains("containerd socket " + dir.resolve("none.sock")
                + " does not exist"));
    }

    @Test
    void badInputIsOneLineAndExitOne() throws Exception {
        Path missing = dir.resolve("missing.toml");
        Path badToml = dir.resolve("bad.toml");
        Files.writeString(badToml, "[daemon]\nrecover_policy = \"sometimes\"\n");
        Path badJson = dir.resolve("bad.json");
        Files.writeString(badJson, "[1, 2]");
        String[][] cases = {
            {"--bogus"},
            {"--daemon-mode", "fast", "--root", dir.resolve("r").toString()},
            {"--fs-driver", "fscache", "--root", dir.resolve("r").toString()},
            {"--log-level", "loud", "--root", dir.resolve("r").toString()},
            {"--config", missing.toString()},
            {"--config", badToml.toString()},
            {"--nydusd-config", badJson.toString(), "--root", dir.resolve("r").toString()},
            {"--nydusd-config", dir.resolve("none.json").toString(), "--root", dir.resolve("r").toString()},
            {"--root"},
        };
        for (String[] args : cases) {
            Cmd.Result r = launch(args);
            assertEquals(1, r.exit(), String.join(" ", args) + ": " + r.out());
            assertEquals(1, r.out().strip().lines().count(), String.join(" ", args) + ": " + r.out());
            assertTrue(r.out().startsWith("containerd-nydus-grpc: "), r.out());
        }
        assertTrue(launch("--config", badToml.toString()).out().contains("daemon.recover_policy"));
    }

    @Test
    void aSecondSnapshotterOnTheSameRootIsRefused() throws Exception {
        Path log = dir.resolve("first.log");
        try (SnapshotterServer first = SnapshotterServer.start(dir.resolve("a.sock"), log, "--root",
                dir.resolve("root").toString())) {
            assertTrue(Files.exists(first.socket()));
            Cmd.Result r = launch("--root", dir.resolve("root").toString(), "--address", dir.resolve("b.sock").toString());
            assertEquals(1, r.exit(), r.out());
            assertTrue(r.out().startsWith("containerd-nydus-grpc: cannot open " + dir.resolve("root/metadata.mv.db")),
                    r.out());
            assertEquals("", Files.readString(log).strip(), "quiet by default");
        }
    }
}
