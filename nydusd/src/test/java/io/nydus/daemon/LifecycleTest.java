package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.testdata.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Starting and stopping the daemon through the launcher: every way it stops leaves no mount and exits 0; every
 * failed start exits non-zero with one line on stderr and mounts nothing.
 */
class LifecycleTest {
    static final Duration EXIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Path mnt() throws Exception {
        return Files.createDirectories(dir.resolve("mnt"));
    }

    private List<String> fuseArgs(Path mnt, String... extra) throws Exception {
        List<String> a = new ArrayList<>(List.of("fuse", "--config",
                FixtureMountTest.config(dir, Fixtures.get("blobs"), false).toString(), "--mountpoint", mnt.toString(),
                "--bootstrap", Fixtures.get(FixtureMountTest.V6_BOOT).toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void signalUnmountsAndExitsZero(String signal) throws Exception {
        Path mnt = mnt();
        try (NydusdProcess d = NydusdProcess.start(dir, fuseArgs(mnt))) {
            d.awaitMounted(mnt);
            assertTrue(Files.exists(mnt.resolve("lib.rs")));
            d.signal(signal);
            assertEquals(0, d.awaitExit(EXIT), d.stderr());
            assertFalse(MountInfo.isMounted(mnt));
        }
    }

    @Test
    void exitRequestUnmountsRemovesTheSocketAndExitsZero() throws Exception {
        Path mnt = mnt();
        Path sock = dir.resolve("api.sock");
        Path log = dir.resolve("nydusd");
        try (NydusdProcess d = NydusdProcess.start(dir, fuseArgs(mnt, "--apisock", sock.toString(), "--log-file",
                log.toString()))) {
            d.awaitState(sock, "RUNNING");
            assertTrue(MountInfo.isMounted(mnt));
            UnixHttp.Response r = new UnixHttp(sock).send("PUT", ApiServer.DAEMON_EXIT, null);
            assertEquals(204, r.status());
            assertEquals(0, d.awaitExit(EXIT), d.stderr());
            assertFalse(MountInfo.isMounted(mnt));
            assertFalse(Files.exists(sock));
            // --log-file: ".log" added to a name without extension; stderr stays quiet.
            String text = Files.readString(dir.resolve("nydusd.log"));
            assertTrue(text.contains("RUNNING") && text.contains("exits"), text);
            assertEquals("", d.stderr());
        }
    }

    @Test
    void externalUnmountEndsTheDaemon() throws Exception {
        Path mnt = mnt();
        try (NydusdProcess d = NydusdProcess.start(dir, fuseArgs(mnt))) {
            d.awaitMounted(mnt);
            assertEquals(0, MountInfo.run(List.of("fusermount", "-u", mnt.toString())));
            assertEquals(0, d.awaitExit(EXIT), d.stderr());
            assertFalse(MountInfo.isMounted(mnt));
        }
    }

    @Test
    void optionsBeforeTheSubcommandAndTheLegacyForm() throws Exception {
        Path mnt = mnt();
        Path cfg = FixtureMountTest.config(dir, Fixtures.get("blobs"), false);
        Path boot = Fixtures.get(FixtureMountTest.V6_BOOT);
        List<List<String>> forms = List.of(
                List.of("--config", cfg.toString(), "--log-level", "warn", "fuse", "--mountpoint", mnt.toString(),
                        "--bootstrap", boot.toString()),
                List.of("-C", cfg.toString(), "-M", mnt.toString(), "-B", boot.toString(), "--fuse-threads", "1"),
                List.of("-M", mnt.toString(), "-B", boot.toString(), "-D", Fixtures.get("blobs").toString()));
        for (List<String> args : forms) {
            if (args.contains("-D")) {
                // -D puts cache files next to the blobs: use a writable copy of the fixture directory.
                Path blobs = Files.createDirectories(dir.resolve("blobs"));
                Path blob = Fixtures.get("blobs").resolve("be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef");
                Files.copy(blob, blobs.resolve(blob.getFileName()));
                args = List.of("-M", mnt.toString(), "-B", boot.toString(), "-D", blobs.toString());
            }
            try (NydusdProcess d = NydusdProcess.start(dir, args)) {
                d.awaitMounted(mnt);
                assertEquals(16931, Files.readAllBytes(mnt.resolve("lib.rs")).length, args.toString());
                assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
            }
            assertFalse(MountInfo.isMounted(mnt));
        }
    }

    /** A configuration with an invalid value: exit 1, one line naming the key, nothing mounted. */
    @Test
    void invalidConfigValueFailsBeforeMounting() throws Exception {
        Path mnt = mnt();
        Path cfg = dir.resolve("bad.json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"/tmp\"}}},"
                + "\"mode\":\"direct\",\"digest_validate\":\"yes\"}");
        assertFailsToStart(mnt, List.of("fuse", "--config", cfg.toString(), "--mountpoint", mnt.toString(),
                "--bootstrap", Fixtures.get(FixtureMountTest.V6_BOOT).toString()), 1, "digest_validate");
    }

    @Test
    void unknownKeysWarnButTheDaemonRuns() throws Exception {
        Path mnt = mnt();
        Path cfg = dir.resolve("c.toml");
        Files.writeString(cfg, "version = 2\nfrobnicate = true\n[backend]\ntype = \"localfs\"\n[backend.localfs]\ndir = \""
                + Fixtures.get("blobs") + "\"\n");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "--config", cfg.toString(), "--mountpoint",
                mnt.toString(), "--bootstrap", Fixtures.get(FixtureMountTest.V6_BOOT).toString()))) {
            d.awaitMounted(mnt);
            assertEquals(13400, Files.readAllBytes(mnt.resolve("sync_io.rs")).length);
            assertTrue(d.stderr().contains("unknown key 'frobnicate'"), d.stderr());
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }

    @Test
    void badInputsFailWithOneLine() throws Exception {
        Path mnt = mnt();
        Path cfg = FixtureMountTest.config(dir, Fixtures.get("blobs"), false);
        Path boot = Fixtures.get(FixtureMountTest.V6_BOOT);
        Path garbage = dir.resolve("garbage.boot");
        Files.write(garbage, new byte[8192]);
        Path unknownBackend = dir.resolve("ub.json");
        Files.writeString(unknownBackend, "{\"device\":{\"backend\":{\"type\":\"carrier-pigeon\",\"config\":{}}},"
                + "\"mode\":\"direct\"}");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "-B",
                dir.resolve("missing.boot").toString()), 1, "missing.boot");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "-B",
                garbage.toString()), 1, "garbage.boot");
        assertFailsToStart(mnt, List.of("fuse", "-C", unknownBackend.toString(), "-M", mnt.toString(), "-B",
                boot.toString()), 1, "carrier-pigeon");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", dir.resolve("nodir").toString(), "-B",
                boot.toString()), 1, "nodir");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "-B", boot.toString(),
                "--apisock", dir.resolve("no/such/dir/api.sock").toString()), 1, "api.sock");
        assertFailsToStart(mnt, List.of("fuse", "-M", mnt.toString(), "-B", boot.toString()), 2,
                "--config and --localfs-dir are missing");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "-B", boot.toString(),
                "--thread-num", "0"), 2, "thread");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "--no-such-flag"), 2,
                "--no-such-flag");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-B", boot.toString()), 2, "--mountpoint");
        assertFailsToStart(mnt, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(), "-B", boot.toString(),
                "--id", "x"), 2, "--supervisor");
    }

    private void assertFailsToStart(Path mnt, List<String> args, int code, String mentions) throws Exception {
        try (NydusdProcess d = NydusdProcess.start(dir, args)) {
            assertEquals(code, d.awaitExit(EXIT), args + ": " + d.stderr());
            String err = d.stderr().strip();
            assertFalse(err.contains("\n"), "one line: " + err);
            assertTrue(err.contains(mentions), args + " → " + err);
            assertFalse(err.contains("Exception"), err);
            assertFalse(MountInfo.isMounted(mnt), args.toString());
        }
    }

    @Test
    void helpAndVersion() throws Exception {
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("--help"))) {
            assertEquals(0, d.awaitExit(EXIT));
            String out = d.stdout();
            for (String opt : List.of("--apisock", "--config", "--mountpoint", "--bootstrap", "--log-level",
                    "--log-file", "--thread-num", "--fuse-threads", "--prefetch-files", "--id", "--supervisor",
                    "--failover-policy", "--upgrade", "--localfs-dir", "--virtual-mountpoint", "fuse", "singleton")) {
                assertTrue(out.contains(opt), opt + " in\n" + out);
            }
        }
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("--version"))) {
            assertEquals(0, d.awaitExit(EXIT));
            assertTrue(d.stdout().contains("Version:"), d.stdout());
        }
    }

    /**
     * --upgrade: INIT until takeover, READY, then RUNNING on start; with nothing to take over from the supervisor
     * (here: no supervisor listening) the takeover mounts afresh. {@link FailoverTest} takes a mount over.
     */
    @Test
    void upgradeModeWaitsForTakeover() throws Exception {
        Path mnt = mnt();
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = NydusdProcess.start(dir, fuseArgs(mnt, "--apisock", sock.toString(), "--upgrade",
                "--id", "d1", "--supervisor", dir.resolve("sup.sock").toString()))) {
            d.awaitState(sock, "INIT");
            assertFalse(MountInfo.isMounted(mnt));
            UnixHttp api = new UnixHttp(sock);
            assertEquals(204, api.send("PUT", ApiServer.TAKEOVER, null).status());
            d.awaitState(sock, "READY");
            assertTrue(Files.exists(mnt.resolve("lib.rs")));
            assertEquals(204, api.send("PUT", ApiServer.DAEMON_START, null).status());
            d.awaitState(sock, "RUNNING");
            assertEquals("d1", api.get(ApiServer.DAEMON).json().get("id").asText());
            assertEquals(0, d.awaitExitAfterTerm());
            assertFalse(MountInfo.isMounted(mnt));
        }
    }
}
