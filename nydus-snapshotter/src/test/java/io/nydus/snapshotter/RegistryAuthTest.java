package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.testdata.registry.RegistryServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nydus image in a registry with basic auth. The snapshotter is configured by a {@code config.toml} (upstream's
 * keys) whose {@code [remote.auth] docker_config} names a docker {@code config.json}; the pull finds the same file
 * through {@code DOCKER_CONFIG}. The real nydusd gets the credentials as {@code auth} and reads the image's data.
 * A pull with {@code --user} instead hands its credentials to the snapshotter as labels of the bootstrap layer.
 */
class RegistryAuthTest {
    @TempDir
    Path dir;

    @Test
    void credentialsReachNydusd() throws Exception {
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
                + "nydusd_path = \"" + Launchers.nydusd() + "\"\n"
                + "nydusd_config = \"" + NydusImageEndToEndTest.template(dir) + "\"\n"
                + "fs_driver = \"fusedev\"\n"
                + "recover_policy = \"restart\"\n"
                + "threads_number = 2\n"
                + "[log]\nlevel = \"warn\"\n"
                + "[remote.auth]\ndocker_config = \"" + dockerConfig + "\"\n"
                + "enable_kubeconfig_keychain = false\n");
        try (TestBed bed = TestBed.start(dir, registry, "--config", config.toString())) {
            try {
                NydusImage.Converted image = NydusImage.pushAndConvert(dir.resolve("image"), registry, "team/private",
                        "alice:s3cret");
                Cmd.Result anonymous = bed.pullResult(Map.of("DOCKER_CONFIG", dir.resolve("none").toString()),
                        image.ref());
                assertEquals(1, anonymous.exit(), anonymous.out());
                assertTrue(anonymous.out().contains("401"), anonymous.out());

                Cmd.Result pull = bed.pullResult(Map.of("DOCKER_CONFIG", dockerConfig.getParent().toString()),
                        image.ref());
                assertEquals(0, pull.exit(), pull.out());
                assertTrue(pull.out().contains("1 layer(s) unpacked, 2 remote"), pull.out());
                assertEquals("team/private\n", bed.run(image.ref(), "c1", "cat /etc/served-by"));

                Path daemonDir = NydusImageEndToEndTest.onlyDaemonDir(bed);
                List<Long> daemons = bed.nydusds();
                assertEquals(1, daemons.size(), daemons.toString());
                String args = TestBed.nydusdArguments(daemons.get(0));
                assertTrue(args.endsWith(" --log-level warn --thread-num 2"), args);
                Path rendered = bed.root.resolve("config").resolve(daemonDir.getFileName()).resolve("config.json");
                JsonNode backend = new ObjectMapper().readTree(rendered.toFile()).path("device").path("backend")
                        .path("config");
                assertEquals(basic, backend.path("auth").asText());
                assertEquals("team/private", backend.path("repo").asText());
                // The rendered config holds a secret: only root may read it.
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(rendered)));
                String bootstrapChain = bootstrapSnapshot(bed, ContainerdServer.NAMESPACE);
                assertFalse(bed.ctr("snapshots", "--snapshotter", "nydus", "info", bootstrapChain)
                        .contains(LayerLabels.PULL_SECRET), "credentials from a docker config stay out of labels");

                // --user: the credentials travel to the snapshotter with the bootstrap layer.
                List<String> cmd = List.of(SnapshotterServer.launcher().toString(), "pull", "--address",
                        bed.containerd.socket().toString(), "--namespace", "other", "--plain-http", "--user",
                        "alice:s3cret", image.ref());
                Cmd.Result withUser = Cmd.exec(cmd, Map.of("NYDUS_SNAPSHOTTER_CLASSPATH",
                        System.getProperty("java.class.path"), "DOCKER_CONFIG", dir.resolve("none").toString()), 300);
                assertEquals(0, withUser.exit(), withUser.out());
                String info = Cmd.run("ctr", "--address", bed.containerd.socket().toString(), "-n", "other",
                        "snapshots", "--snapshotter", "nydus", "info", bootstrapChain);
                assertTrue(info.contains("\"" + LayerLabels.PULL_USERNAME + "\": \"alice\""), info);
                assertEquals("team/private\n", Cmd.run("ctr", "--address", bed.containerd.socket().toString(), "-n",
                        "other", "run", "--rm", "--snapshotter", "nydus", image.ref(), "c2", "cat", "/etc/served-by"));
                assertEquals("", bed.snapshotter().log().strip(), "log level warn: nothing to say");
            } catch (Exception | AssertionError e) {
                throw new AssertionError(e.getMessage() + bed.diagnostics(), e);
            }
        }
    }

    /** The committed snapshot no other snapshot has as parent: the image's top layer, its bootstrap layer. */
    private static String bootstrapSnapshot(TestBed bed, String namespace) throws Exception {
        List<String[]> rows = new java.util.ArrayList<>();
        for (String line : Cmd.run("ctr", "--address", bed.containerd.socket().toString(), "-n", namespace,
                "snapshots", "--snapshotter", "nydus", "ls").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[2].equals("Committed")) {
                rows.add(f);
            }
        }
        List<String> top = rows.stream().map(r -> r[0])
                .filter(k -> rows.stream().noneMatch(r -> r[1].equals(k))).toList();
        assertEquals(1, top.size(), top.toString());
        return top.get(0);
    }
}
