package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.nydusify.oci.Json;
import io.nydus.testdata.Project;
import io.nydus.testdata.registry.RegistryServer;
import io.nydus.testdata.registry.TokenServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Source and target registries behind basic auth and bearer tokens; credentials from flags, env and config.json. */
class AuthTest {
    static Path images;

    @TempDir
    Path work;

    @BeforeAll
    static void build() throws IOException {
        images = TestImages.layout();
    }

    private static Cli ok(String... args) {
        Cli c = Cli.run(args);
        assertEquals(0, c.code(), c.toString());
        return c;
    }

    @Test
    void basicAuthOnBothSides() throws IOException {
        try (RegistryServer src = RegistryServer.withBasicAuth(work.resolve("src"), "alice", "alice-pw");
                RegistryServer dst = RegistryServer.withBasicAuth(work.resolve("dst"), "bob", "bob-pw")) {
            TestImages.push(images, "busybox", src, "app:v1", "--dest-creds", "alice:alice-pw");
            String s = src.host() + "/app:v1";
            String t = dst.host() + "/app:nydus";
            ok("convert", "--source", s, "--target", t, "--plain-http", "--source-creds", "alice:alice-pw",
                    "--target-creds", "bob:bob-pw");
            ok("check", "--source", s, "--target", t, "--plain-http", "--source-creds", "alice:alice-pw",
                    "--target-creds", "bob:bob-pw");

            // wrong credentials: one line naming the registry and the status
            Cli bad = Cli.run("convert", "--source", s, "--target", dst.host() + "/app:bad", "--plain-http",
                    "--source-creds", "alice:wrong", "--target-creds", "bob:bob-pw");
            assertEquals(1, bad.code(), bad.toString());
            assertEquals(1, bad.errorLines().lines().count(), bad.toString());
            assertTrue(bad.errorLines().contains(src.host()) && bad.errorLines().contains("401"), bad.toString());

            // the launcher, with credentials from a docker config.json and from the environment
            Path dockerConfig = work.resolve("docker");
            Files.createDirectories(dockerConfig);
            String auth = Base64.getEncoder().encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));
            Files.writeString(dockerConfig.resolve("config.json"),
                    "{\"auths\":{\"" + src.host() + "\":{\"auth\":\"" + auth + "\"}}}");
            TestImages.Result r = launcher(Map.of("DOCKER_CONFIG", dockerConfig.toString(),
                    "NYDUSIFY_TARGET_CREDS", "bob:bob-pw"),
                    "convert", "--source", s, "--target", dst.host() + "/app:launcher", "--plain-http");
            assertEquals(0, r.code(), r.output());
            JsonNode m = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "--tls-verify=false", "--creds",
                    "bob:bob-pw", "--raw", "docker://" + dst.host() + "/app:launcher"));
            assertEquals(5, m.get("layers").size());
        }
    }

    @Test
    void bearerTokensOnBothSidesAndCrossRepositoryMounts() throws IOException {
        try (TokenServer tokens = TokenServer.start(work.resolve("tokens")).addUser("alice", "alice-pw")
                .addUser("bob", "bob-pw");
                RegistryServer src = RegistryServer.withTokenAuth(work.resolve("src"), tokens);
                RegistryServer dst = RegistryServer.withTokenAuth(work.resolve("dst"), tokens)) {
            TestImages.push(images, "busybox", src, "team/app:v1", "--dest-creds", "alice:alice-pw");
            String s = src.host() + "/team/app:v1";
            String t = dst.host() + "/team/app:nydus";
            ok("convert", "--source", s, "--target", t, "--plain-http", "--source-creds", "alice:alice-pw",
                    "--target-creds", "bob:bob-pw");
            ok("check", "--source", s, "--target", t, "--plain-http", "--source-creds", "alice:alice-pw",
                    "--target-creds", "bob:bob-pw");
            assertTrue(tokens.issuedTokens() >= 2, "tokens issued: " + tokens.issuedTokens());

            // within one registry: the source layers of a merged index are mounted, not uploaded
            Path json = work.resolve("out.json");
            ok("convert", "--source", s, "--target", src.host() + "/other/app:merged", "--plain-http",
                    "--merge-platform", "--source-creds", "alice:alice-pw", "--target-creds", "alice:alice-pw",
                    "--output-json", json.toString());
            JsonNode out = Json.MAPPER.readTree(json.toFile());
            assertTrue(out.get("mounted_blobs").asLong() >= 4, out.toString());
            ok("check", "--source", s, "--target", src.host() + "/other/app:merged", "--plain-http",
                    "--source-creds", "alice:alice-pw", "--target-creds", "alice:alice-pw");
        }
    }

    /** Runs bin/nydusify with this test's classpath. */
    static TestImages.Result launcher(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Project.root().resolve("bin/nydusify").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("NYDUSIFY_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new TestImages.Result(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
