package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.builder.CreateResult;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import io.nydus.testdata.TreeManifest;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images whose blob is in a real registry (the distribution registry, basic auth): the daemon reads it with
 * the registry backend, fails reads with EIO while its credentials are wrong, and recovers when the right ones
 * arrive through {@code PUT /api/v1/config}; credentials never appear in the API's output.
 */
class RegistryTest {
    static final String USER = "nydus";
    static final String PASS = "s3cret-pass";
    static final String REPO = "test/nydusd";

    @TempDir
    Path dir;

    static String basic(String user, String pass) {
        return Base64.getEncoder().encodeToString((user + ":" + pass).getBytes(StandardCharsets.UTF_8));
    }

    /** Monolithic blob upload (POST, then PUT with the digest), as the distribution spec describes. */
    static void push(RegistryServer reg, Path blob, String id) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String auth = "Basic " + basic(USER, PASS);
        HttpResponse<String> start = http.send(HttpRequest.newBuilder(URI.create(reg.url() + "/v2/" + REPO
                + "/blobs/uploads/")).header("Authorization", auth).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, start.statusCode(), start.body());
        URI loc = URI.create(reg.url()).resolve(start.headers().firstValue("Location").orElseThrow());
        String sep = loc.getQuery() == null ? "?" : "&";
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(loc + sep + "digest=sha256:" + id))
                .header("Authorization", auth).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofFile(blob)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
    }

    private static String config(RegistryServer reg, String auth) {
        return "{\"device\":{\"id\":\"reg-img\",\"backend\":{\"type\":\"registry\",\"config\":{\"scheme\":\"http\","
                + "\"host\":\"" + reg.host() + "\",\"repo\":\"" + REPO + "\",\"timeout\":5,\"connect_timeout\":5"
                + (auth == null ? "" : ",\"auth\":\"" + auth + "\"") + "}}},\"mode\":\"direct\","
                + "\"digest_validate\":true}";
    }

    @Test
    void readsFromARegistryAndTakesNewCredentialsAtRunTime() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/etc"));
        Random rnd = new Random(3);
        for (int i = 0; i < 12; i++) {
            byte[] b = new byte[rnd.nextInt(300_000)];
            rnd.nextBytes(b);
            Files.write(src.resolve("f" + i), b);
        }
        Files.writeString(src.resolve("hello"), "hello from a registry\n");
        Path out = Files.createDirectories(dir.resolve("out"));
        CreateResult built = BuiltImageTest.build(dir.resolve("src"), out, "img", RafsVersion.V6, Compressor.ZSTD,
                Digester.SHA256);
        try (RegistryServer reg = RegistryServer.withBasicAuth(dir.resolve("registry"), USER, PASS)) {
            push(reg, built.blobPath(), built.blob().blobId());
            Path mnt = Files.createDirectories(dir.resolve("mnt"));
            Path sock = dir.resolve("api.sock");
            Path cfg = Files.writeString(dir.resolve("c.json"), config(reg, basic(USER, "wrong")));
            try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M",
                    mnt.toString(), "-B", built.bootstrap().toString(), "-A", sock.toString()))) {
                d.awaitState(sock, "RUNNING");
                UnixHttp api = new UnixHttp(sock);
                // Metadata needs no registry; data does.
                assertEquals(22, Files.size(mnt.resolve("etc/hello")));
                IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(mnt.resolve("etc/hello")));
                assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());

                assertEquals(400, api.send("PUT", ApiServer.CONFIG, "{\"colour\":\"blue\"}").status());
                assertEquals(204, api.send("PUT", ApiServer.CONFIG + "?id=reg-img",
                        "{\"registry_auth\":\"" + basic(USER, PASS) + "\"}").status());
                MountInfo.dropCaches();
                TreeManifest.assertSame(dir.resolve("src"), mnt, TreeManifest.Options.DEFAULT);

                String everything = api.get(ApiServer.DAEMON).body() + api.get(ApiServer.DAEMON_BACKEND).body()
                        + api.get(ApiServer.CONFIG).body() + api.get(ApiServer.METRICS_BACKEND).body();
                assertFalse(everything.contains(basic(USER, PASS)), everything);
                assertFalse(everything.contains(basic(USER, "wrong")), everything);
                assertEquals("registry", api.get(ApiServer.METRICS_BACKEND).json().get("backend_type").asText());
                assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
            }
        }
    }
}
