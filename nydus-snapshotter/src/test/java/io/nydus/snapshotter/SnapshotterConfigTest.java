package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.toml with upstream's keys; every bad value is one line naming the file and key. */
class SnapshotterConfigTest {
    @TempDir
    Path dir;

    private SnapshotterConfig load(String toml) throws IOException {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, toml);
        SnapshotterConfig c = new SnapshotterConfig();
        c.load(f);
        return c;
    }

    @Test
    void defaultsAreUpstreams() {
        SnapshotterConfig c = new SnapshotterConfig();
        assertEquals(Path.of("/var/lib/containerd/io.containerd.snapshotter.v1.nydus"), c.root);
        assertEquals(Path.of("/run/containerd-nydus/containerd-nydus-grpc.sock"), c.address);
        assertEquals(SnapshotterConfig.DaemonMode.DEDICATED, c.daemonMode);
        assertEquals(SnapshotterConfig.RecoverPolicy.RESTART, c.recoverPolicy);
        assertEquals(Path.of("/etc/nydus/nydusd-config.json"), c.nydusdConfig);
        assertEquals(c.root.resolve("cache"), c.cacheDirectory());
        assertEquals(Log.Level.INFO, c.logLevel);
    }

    @Test
    void upstreamsSampleKeysAreRead() throws IOException {
        SnapshotterConfig c = load("""
                version = 1
                root = "/srv/nydus"
                address = "/run/n.sock"
                daemon_mode = "multiple"
                cleanup_on_close = false
                [system]
                enable = true
                address = "/run/containerd-nydus/system.sock"
                [daemon]
                nydusd_config = "/etc/nydus/nydusd-config.fusedev.json"
                nydusd_path = "/usr/local/bin/nydusd"
                nydusimage_path = "/usr/local/bin/nydus-image"
                fs_driver = "fusedev"
                recover_policy = "failover"
                threads_number = 4
                log_rotation_size = 100
                failover_policy = "resend"
                [log]
                log_to_stdout = true
                level = "debug"
                [remote]
                convert_vpc_registry = false
                [remote.auth]
                enable_kubeconfig_keychain = false
                enable_cri_keychain = false
                docker_config = "/root/.docker/config.json"
                [remote.auth.hosts."127.0.0.1:5000"]
                username = "u"
                password = "p"
                [remote.auth.hosts."ghcr.io"]
                auth = "dTI6cDI="
                [snapshot]
                enable_nydus_overlayfs = false
                enable_overlayfs_volatile = true
                [cache_manager]
                cache_dir = "/srv/cache"
                [experimental]
                enable_stargz = false
                """);
        assertEquals(Path.of("/srv/nydus"), c.root);
        assertEquals(Path.of("/run/n.sock"), c.address);
        assertEquals(SnapshotterConfig.DaemonMode.DEDICATED, c.daemonMode);
        assertEquals(Path.of("/etc/nydus/nydusd-config.fusedev.json"), c.nydusdConfig);
        assertTrue(c.nydusdConfigExplicit);
        assertEquals("/usr/local/bin/nydusd", c.nydusdPath);
        assertEquals(SnapshotterConfig.RecoverPolicy.FAILOVER, c.recoverPolicy);
        assertEquals(4, c.threadsNumber);
        assertTrue(c.logToStdout);
        assertEquals(Log.Level.DEBUG, c.logLevel);
        assertTrue(c.overlayVolatile);
        assertEquals(Path.of("/srv/cache"), c.cacheDirectory());
        assertEquals(Path.of("/root/.docker/config.json"), c.dockerConfig);
        assertEquals(new RegistryCredentials.Credential("u", "p"), c.credentials.get("127.0.0.1:5000"));
        assertEquals(new RegistryCredentials.Credential("u2", "p2"), c.credentials.get("ghcr.io"));
    }

    @Test
    void badValuesAreOneLineErrors() throws IOException {
        Path f = dir.resolve("config.toml");
        String[][] cases = {
            {"daemon_mode = \"fast\"", "daemon_mode: invalid daemon mode \"fast\" (dedicated, multiple, shared, none)"},
            {"[daemon]\nfs_driver = \"fscache\"", "daemon.fs_driver: fs driver \"fscache\" is not supported (fusedev)"},
            {"[daemon]\nrecover_policy = \"maybe\"", "daemon.recover_policy: invalid recover policy \"maybe\""},
            {"[daemon]\nthreads_number = 5000", "daemon.threads_number: threads number 5000 out of range 0..1024"},
            {"[daemon]\nthreads_number = \"4\"", "daemon.threads_number must be an integer"},
            {"root = 5", "root must be a string"},
            {"[log]\nlevel = \"loud\"", "log.level: invalid log level \"loud\""},
            {"[snapshot]\nenable_nydus_overlayfs = true", "snapshot.enable_nydus_overlayfs = true is not supported"},
            {"[remote.auth.hosts.\"h\"]\nusername = \"u\"", "remote.auth.hosts.\"h\" needs username and password"},
            {"root = ", ""},
        };
        for (String[] c : cases) {
            Exception e = assertThrows(Exception.class, () -> load(c[0]), c[0]);
            assertTrue(e instanceof IOException || e instanceof SnapshotterConfig.Bad, e.toString());
            assertTrue(e.getMessage().startsWith(f + ": " + c[1]), c[0] + " → " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
