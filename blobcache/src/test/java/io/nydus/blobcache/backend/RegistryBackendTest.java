package io.nydus.blobcache.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.DirectChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.RegistrySettings;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry backend as nydusd creates it from its config, against real registries. */
class RegistryBackendTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    private static JsonNode json(String s) throws IOException {
        return JSON.readTree(s.replace('\'', '"'));
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aBackendFromConfigReadsChunksAndCountsThem() throws Exception {
        try (RegistryServer r = RegistryServer.withBasicAuth(work, "nydus", "pw")) {
            ChunkedBlob blob = new ChunkedBlob(8, 32 << 10, 1);
            List<String> warnings = new ArrayList<>();
            JsonNode config = json("{'scheme':'http','host':'" + r.host() + "','repo':'lib/app','auth':'"
                    + base64("nydus:pw") + "','timeout':3,'connect_timeout':2,'retry_limit':2,'skip_verify':false,"
                    + "'mirrors':[]}");
            try (BlobBackend b = BlobBackends.create("registry", config, warnings)) {
                assertEquals(List.of("registry backend: unknown key 'mirrors' ignored"), warnings);
                assertEquals("registry", b.type());
                RegistryBackend rb = (RegistryBackend) b;
                rb.client().pushBlob("lib/app", blob.digest(), BlobSource.ofBytes(blob.blob));
                assertEquals(blob.blob.length, b.blobSize(blob.id));
                DirectChunkSource src = new DirectChunkSource(List.of(blob.info), b,
                        true);
                for (int i = 0; i < blob.chunks.size(); i++) {
                    assertArrayEquals(blob.data.get(i), src.load(blob.chunks.get(i), ReadPriority.ON_DEMAND));
                }
                long bytes = blob.chunks.stream().mapToLong(c -> c.compressedSize()).sum();
                assertEquals(bytes, b.metrics().readBytes());
                assertEquals(blob.chunks.size() + 1, b.metrics().readCount());
                assertEquals(0, b.metrics().readErrors());
                assertEquals(0, b.metrics().inflight());

                IOException missing = assertThrows(IOException.class,
                        () -> b.read("ab".repeat(32), 0, new byte[4], 0, 4, ReadPriority.ON_DEMAND));
                assertTrue(missing.getMessage().contains("BLOB_UNKNOWN"), missing.getMessage());
                assertEquals(1, b.metrics().readErrors());
                assertThrows(IOException.class, () -> b.blobSize("../etc/passwd"));

                // registry_auth from PUT /api/v1/config replaces the credentials at runtime
                rb.updateAuth(base64("nydus:wrong"));
                assertEquals(401, assertThrows(io.nydus.blobcache.registry.RegistryException.class,
                        () -> b.read(blob.id, 0, new byte[4], 0, 4, ReadPriority.ON_DEMAND)).status());
                rb.updateAuth(base64("nydus:pw"));
                byte[] four = new byte[4];
                b.read(blob.id, 0, four, 0, 4, ReadPriority.ON_DEMAND);
                assertArrayEquals(java.util.Arrays.copyOf(blob.blob, 4), four);
            }
        }
    }

    @Test
    void withoutAuthTheDockerConfigOfTheHostIsUsed() throws Exception {
        try (RegistryServer r = RegistryServer.withBasicAuth(work, "dc", "pw")) {
            Path dockerConfig = work.resolve("config.json");
            Files.writeString(dockerConfig, "{\"auths\":{\"" + r.host() + "\":{\"auth\":\"" + base64("dc:pw") + "\"}}}");
            List<String> warnings = new ArrayList<>();
            try (RegistryBackend b = RegistryBackend.fromConfig(json("{'scheme':'http','host':'" + r.host()
                    + "','repo':'dc/img'}"), warnings, dockerConfig)) {
                byte[] data = "hello registry".getBytes(StandardCharsets.UTF_8);
                String id = java.util.HexFormat.of().formatHex(Digester.sha256().digest(data));
                b.client().pushBlob("dc/img", "sha256:" + id, BlobSource.ofBytes(data));
                byte[] dst = new byte[data.length];
                b.read(id, 0, dst, 0, dst.length, ReadPriority.PREFETCH);
                assertArrayEquals(data, dst);
            }
            assertTrue(warnings.isEmpty(), warnings.toString());
        }
    }

    @Test
    void invalidValuesNameTheirKey() {
        String[][] cases = {
            {"{'repo':'a/b'}", "'host' is required"},
            {"{'host':'h:1'}", "'repo' is required"},
            {"{'host':'h:1','repo':'a','scheme':'ftp'}", "'scheme'"},
            {"{'host':'h:1','repo':'a','timeout':'5'}", "'timeout'"},
            {"{'host':'h:1','repo':'a','timeout':0}", "'timeout'"},
            {"{'host':'h:1','repo':'a','connect_timeout':-1}", "'connect_timeout'"},
            {"{'host':'h:1','repo':'a','retry_limit':256}", "'retry_limit'"},
            {"{'host':'h:1','repo':'a','skip_verify':'yes'}", "'skip_verify'"},
            {"{'host':'h:1','repo':'a','auth':'%%%'}", "'auth'"},
            {"{'host':'h:1','repo':'a','auth':'" + base64("nocolon") + "'}", "'auth'"},
            {"{'host':'h:1','repo':'a','blob_url_scheme':'gopher'}", "'blob_url_scheme'"},
            {"{'host':'h:1','repo':'a','ca_cert_files':[1]}", "'ca_cert_files'"},
            {"{'host':'h:1','repo':'a','ca_cert_files':['/nonexistent/ca.pem']}", "ca_cert_files"},
            {"{'host':'h:1','repo':'a','proxy':{'url':'not a url'}}", "'proxy.url'"},
            {"{'host':'h:1','repo':'a','proxy':{'url':'http://p:1','check_interval':0}}", "'proxy.check_interval'"},
            {"{'host':'h:1','repo':'a','proxy':{'url':'http://p:1','fallback':1}}", "'fallback'"},
            {"{'host':'h:1','repo':'a','proxy':{'url':'http://p:1','ping_url':'/ping'}}", "'proxy.ping_url'"},
            {"{'host':'http://h:1','repo':'a'}", "'host'"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BlobBackends.create("registry", json(c[0]), new ArrayList<>()), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void proxyKeysAreReadWithUpstreamDefaults() throws Exception {
        List<String> warnings = new ArrayList<>();
        try (RegistryBackend b = RegistryBackend.fromConfig(json("{'host':'127.0.0.1:1','repo':'a/b','proxy':{"
                + "'url':'http://127.0.0.1:2','ping_url':'http://127.0.0.1:2/server/ping','check_interval':7,"
                + "'use_http':true,'dragonfly_scheduler_endpoint':'x','bogus':1}}"), warnings, work.resolve("none"))) {
            var p = b.client().proxy().config();
            assertTrue(p.fallback());
            assertEquals(7, p.checkInterval().toSeconds());
            assertEquals(300, p.checkPauseElapsed().toSeconds());
            assertTrue(p.useHttp());
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("proxy.bogus"), warnings.toString());
        }
        try (RegistryBackend b = RegistryBackend.fromConfig(json("{'host':'127.0.0.1:1','repo':'a/b',"
                + "'proxy':{'url':''}}"), warnings, work.resolve("none"))) {
            assertEquals(null, b.client().proxy());
            RegistrySettings s = b.client().settings();
            assertEquals("https", s.scheme());
            assertEquals(5, s.timeout().toSeconds());
            assertEquals(5, s.connectTimeout().toSeconds());
            assertEquals(0, s.retryLimit());
        }
    }
}
