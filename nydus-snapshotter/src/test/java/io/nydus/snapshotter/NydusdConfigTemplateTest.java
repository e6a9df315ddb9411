package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rendering the --nydusd-config template for one image, as upstream's SupplementDaemonConfig does. */
class NydusdConfigTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CACHE = Path.of("/var/lib/nydus/cache");

    @TempDir
    Path dir;

    private static JsonNode render(NydusdConfigTemplate t, String ref, Optional<RegistryCredentials.Credential> auth)
            throws IOException {
        return JSON.readTree(t.render(ref == null ? null : ImageReference.parse(ref), "42", CACHE, auth));
    }

    @Test
    void upstreamsV1TemplateGetsHostRepoAuthAndCache() throws IOException {
        NydusdConfigTemplate t = NydusdConfigTemplate.builtIn();
        JsonNode c = render(t, "127.0.0.1:5000/team/app:v1",
                Optional.of(new RegistryCredentials.Credential("alice", "s3cret")));
        JsonNode backend = c.path("device").path("backend");
        assertEquals("registry", backend.path("type").asText());
        assertEquals("127.0.0.1:5000", backend.path("config").path("host").asText());
        assertEquals("team/app", backend.path("config").path("repo").asText());
        assertEquals("YWxpY2U6czNjcmV0", backend.path("config").path("auth").asText());
        assertEquals(5, backend.path("config").path("timeout").asInt(), "template keys are kept");
        assertEquals("blobcache", c.path("device").path("cache").path("type").asText());
        assertEquals(CACHE.toString(), c.path("device").path("cache").path("config").path("work_dir").asText());
        assertEquals("/42", c.path("device").path("id").asText());
        assertTrue(c.path("fs_prefetch").path("prefetch_all").asBoolean());
    }

    @Test
    void dockerHubAndTokensAndNoCredentials() throws IOException {
        NydusdConfigTemplate t = NydusdConfigTemplate.builtIn();
        JsonNode hub = render(t, "busybox:latest", Optional.of(new RegistryCredentials.Credential("", "tok")));
        assertEquals("index.docker.io", hub.path("device").path("backend").path("config").path("host").asText());
        assertEquals("library/busybox", hub.path("device").path("backend").path("config").path("repo").asText());
        assertEquals("tok", hub.path("device").path("backend").path("config").path("registry_token").asText());
        assertFalse(hub.path("device").path("backend").path("config").has("auth"));
        JsonNode anon = render(t, "ghcr.io/org/img@sha256:" + "a".repeat(64), Optional.empty());
        assertEquals("ghcr.io", anon.path("device").path("backend").path("config").path("host").asText());
        assertEquals("org/img", anon.path("device").path("backend").path("config").path("repo").asText());
        assertFalse(anon.path("device").path("backend").path("config").has("auth"));
    }

    @Test
    void authInTheTemplateIsKeptWhenNoneIsFound() throws IOException {
        NydusdConfigTemplate t = NydusdConfigTemplate.parse("{\"device\": {\"backend\": {\"type\": \"registry\","
                + " \"config\": {\"auth\": \"preset\", \"scheme\": \"http\"}}}}", "t");
        JsonNode c = render(t, "r.example/a/b:1", Optional.empty());
        assertEquals("preset", c.path("device").path("backend").path("config").path("auth").asText());
        assertEquals("http", c.path("device").path("backend").path("config").path("scheme").asText());
    }

    @Test
    void v2TemplatesAndNonRegistryBackends() throws IOException {
        NydusdConfigTemplate v2 = NydusdConfigTemplate.parse("{\"version\": 2, \"backend\": {\"type\": \"registry\","
                + " \"registry\": {\"scheme\": \"https\"}}, \"cache\": {\"type\": \"filecache\"}}", "v2");
        JsonNode c = render(v2, "r.example/a/b:1", Optional.of(new RegistryCredentials.Credential("u", "p")));
        assertEquals("r.example", c.path("backend").path("registry").path("host").asText());
        assertEquals("a/b", c.path("backend").path("registry").path("repo").asText());
        assertEquals("dTpw", c.path("backend").path("registry").path("auth").asText());
        assertEquals(CACHE.toString(), c.path("cache").path("filecache").path("work_dir").asText());
        assertEquals("42", c.path("id").asText());

        NydusdConfigTemplate local = NydusdConfigTemplate.parse("{\"device\": {\"backend\": {\"type\": \"localfs\","
                + " \"config\": {\"dir\": \"/blobs\"}}, \"cache\": {\"type\": \"\"}}}", "local");
        assertEquals("localfs", local.backendType());
        JsonNode l = render(local, null, Optional.empty());
        assertEquals("/blobs", l.path("device").path("backend").path("config").path("dir").asText());
        assertFalse(l.path("device").path("backend").path("config").has("host"));
        assertThrows(IllegalArgumentException.class, () -> NydusdConfigTemplate.builtIn().render(null, "1", CACHE,
                Optional.empty()));
    }

    @Test
    void badTemplatesAreRejectedWithTheFileNamed() throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"device\": ");
        IOException e = assertThrows(IOException.class, () -> NydusdConfigTemplate.load(bad));
        assertTrue(e.getMessage().startsWith(bad + ": not JSON"), e.getMessage());
        Files.writeString(bad, "{\"mode\": \"direct\"}");
        e = assertThrows(IOException.class, () -> NydusdConfigTemplate.load(bad));
        assertEquals(bad + ": v1 config without \"device.backend\"", e.getMessage());
        e = assertThrows(IOException.class, () -> NydusdConfigTemplate.load(dir.resolve("missing.json")));
        assertTrue(e.getMessage().startsWith("cannot read nydusd config " + dir.resolve("missing.json")));
        assertFalse(e.getMessage().contains("\n"));
    }
}
