package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.testdata.registry.RegistryServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nydus image in a registry with basic auth, the snapshotter configured by a {@code config.toml} (upstream's
 * keys) whose {@code [remote.auth] docker_config} names a docker {@code config.json}: nydusd gets the credentials
 * as {@code auth} and can read the repository.
 */
class RegistryAuthTest {
    @TempDir
    Path dir;

    @Test
    void credentialsFromADockerConfigReachNydusd() throws Exception {
        String basic = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        RegistryServer registry = RegistryServer.withBasicAuth(dir.resolve("registry"), "alice", "s3cret");
        Path dockerConfig = dir.resolve("docker/config.json");
        Files.createDirectories(dockerConfig.getParent());
        Files.writeString(dockerConfig, "{\"auths\": {\"" + registry.host() + "\": {\"auth\": \"" + basic + "\"}}}");
        Path config = dir.resolve("config.toml");
        Files.writeString(config, "version = 1\n"
                + "root = \"/nonexistent/overridden/by/--root\"\n"
                + "daemon_mode = \"dedicated\"\n"
                + "[daemon]\n"
                + "nydusd_path = \"" + NydusImageEndToEndTest.nydusd(dir) + "\"\n"
                + "nydusd_config = \"" + NydusImageEndToEndTest.template(dir) + "\"\n"
                + "fs_driver = \"fusedev\"\n"
                + "recover_policy = \"restart\"\n"
                + "threads_number = 2\n"
                + "[log]\nlevel = \"warn\"\n"
                + "[remote.auth]\ndocker_config = \"" + dockerConfig + "\"\n"
                + "enable_kubeconfig_keychain = false\n");
        try (TestBed bed = TestBed.start(dir, registry, "--config", config.toString())) {
            try {
                RegistryUpload upload = new RegistryUpload(registry.host(), "Basic " + basic);
                StandInNydusImage.Pushed image = StandInNydusImage.push(dir.resolve("image"),
                        NydusImageEndToEndTest.rootfs(dir.resolve("image"), "private"), upload, registry.host(),
                        "team/private", "v1");
                RemoteSnapshotPull.Result pull = RemoteSnapshotPull.pull(bed.containerd, upload, image.ref(), "nydus",
                        "alice:s3cret");
                assertEquals(List.of(true, true, false), pull.remote());
                assertEquals("private\n", bed.run(image.ref(), "c1", "cat /etc/served-by"));

                Path daemonDir = NydusDaemonRecoveryTest.onlyDaemonDir(bed);
                String args = StandInNydusd.starts(daemonDir).get(0);
                assertTrue(args.endsWith(" --log-level warn --thread-num 2"), args);
                var backend = new ObjectMapper().readTree(daemonDir.resolve("standin-config.json").toFile())
                        .path("device").path("backend").path("config");
                assertEquals(basic, backend.path("auth").asText());
                assertEquals("team/private", backend.path("repo").asText());
                // The rendered config holds a secret: only root may read it.
                Path rendered = bed.root.resolve("config").resolve(daemonDir.getFileName()).resolve("config.json");
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(rendered)));
                assertEquals("", bed.snapshotter().log().strip(), "log level warn: nothing to say");
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }
}
