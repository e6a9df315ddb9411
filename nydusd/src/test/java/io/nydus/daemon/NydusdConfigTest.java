package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.blobcache.cache.CacheConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three configuration formats upstream accepts, their defaults, warnings and errors. */
class NydusdConfigTest {
    /** What the snapshotter writes (misc/snapshotter/nydusd-config.fusedev.json, filled in). */
    static final String V1 = """
            {
              "device": {
                "id": "img-1",
                "backend": {
                  "type": "registry",
                  "config": {"scheme": "http", "host": "127.0.0.1:5000", "repo": "test/img", "auth": "dXNlcjpwYXNz",
                             "timeout": 5, "connect_timeout": 5, "retry_limit": 2}
                },
                "cache": {"type": "blobcache", "config": {"work_dir": "/var/lib/nydus/cache"}}
              },
              "mode": "direct",
              "digest_validate": false,
              "iostats_files": false,
              "enable_xattr": true,
              "amplify_io": 1048576,
              "fs_prefetch": {"enable": true, "threads_count": 4, "merging_size": 131072, "bandwidth_rate": 0}
            }
            """;

    static final String V2_JSON = """
            {
              "version": 2,
              "id": "img-1",
              "backend": {"type": "localfs", "localfs": {"dir": "/blobs"}},
              "cache": {"type": "filecache", "compressed": false, "validate": true,
                        "filecache": {"work_dir": "/cache"},
                        "prefetch": {"enable": true, "threads": 2, "batch_size": 65536}},
              "rafs": {"mode": "cached", "validate": true, "enable_xattr": true, "iostats_files": true,
                       "batch_size": 262144,
                       "prefetch": {"enable": true, "threads": 3, "prefetch_all": true}}
            }
            """;

    static final String V2_TOML = """
            version = 2
            id = "img-1"

            [backend]
            type = "localfs"
            [backend.localfs]
            dir = "/blobs"

            [cache]
            type = "filecache"
            compressed = false
            validate = true
            [cache.filecache]
            work_dir = "/cache"
            [cache.prefetch]
            enable = true
            threads = 2
            batch_size = 65536

            [rafs]
            mode = "cached"
            validate = true
            enable_xattr = true
            iostats_files = true
            batch_size = 262144
            [rafs.prefetch]
            enable = true
            threads = 3
            prefetch_all = true
            """;

    @Test
    void legacyJsonAsTheSnapshotterWritesIt() {
        List<String> warnings = new ArrayList<>();
        NydusdConfig c = NydusdConfig.parse(V1, warnings);
        assertEquals(List.of(), warnings);
        assertEquals(1, c.sourceVersion());
        assertEquals("img-1", c.id());
        assertEquals("registry", c.backendType());
        assertEquals("127.0.0.1:5000", c.backendConfig().get("host").asText());
        assertEquals("blobcache", c.cacheType());
        assertEquals(Path.of("/var/lib/nydus/cache"), c.cacheWorkDir());
        assertEquals("direct", c.mode());
        assertFalse(c.validate());
        assertTrue(c.enableXattr());
        assertEquals(1 << 20, c.batchSize());
        NydusdConfig.Prefetch p = c.rafsPrefetch();
        assertTrue(p.enable());
        assertEquals(4, p.threads());
        assertEquals(131072, p.batchSize());
        // Upstream's v1 default: prefetch_all = true; v1 prefetch settings drive the cache's prefetch.
        assertTrue(p.prefetchAll());
        CacheConfig cc = c.cacheConfig();
        assertTrue(cc.isLocalCache());
        assertTrue(cc.prefetch().enable());
        assertEquals(4, cc.prefetch().threads());
    }

    @Test
    void jsonAndTomlVersion2AreTheSame() {
        List<String> w1 = new ArrayList<>();
        List<String> w2 = new ArrayList<>();
        NydusdConfig json = NydusdConfig.parse(V2_JSON, w1);
        NydusdConfig toml = NydusdConfig.parse(V2_TOML, w2);
        assertEquals(List.of(), w1);
        assertEquals(List.of(), w2);
        for (NydusdConfig c : List.of(json, toml)) {
            assertEquals(2, c.sourceVersion());
            assertEquals("localfs", c.backendType());
            assertEquals("/blobs", c.backendConfig().get("dir").asText());
            assertEquals("filecache", c.cacheType());
            assertEquals(Path.of("/cache"), c.cacheWorkDir());
            assertTrue(c.cacheValidate());
            assertEquals("cached", c.mode());
            assertTrue(c.validate());
            assertTrue(c.iostatsFiles());
            assertEquals(262144, c.batchSize());
            assertEquals(3, c.rafsPrefetch().threads());
            assertTrue(c.rafsPrefetch().prefetchAll());
            assertEquals(2, c.cachePrefetch().threads());
            assertEquals(65536, c.cacheConfig().prefetch().mergingSize());
        }
        assertEquals(json.toJson(false), toml.toJson(false));
    }

    @Test
    void unknownKeysAreWarningsNamingTheKey() {
        List<String> w = new ArrayList<>();
        NydusdConfig.parse(V1.replace("\"mode\": \"direct\",", "\"mode\": \"direct\", \"moed\": 1,")
                .replace("\"work_dir\"", "\"wrok\": 2, \"work_dir\""), w);
        assertEquals(2, w.size(), w.toString());
        assertTrue(w.stream().anyMatch(s -> s.contains("'moed'")), w.toString());
        assertTrue(w.stream().anyMatch(s -> s.contains("'device.cache.config.wrok'")), w.toString());

        List<String> t = new ArrayList<>();
        NydusdConfig.parse(V2_TOML + "\n[rafs.extra]\nx = 1\n", t);
        assertEquals(1, t.size(), t.toString());
        assertTrue(t.get(0).contains("'rafs.extra'"), t.toString());
    }

    @Test
    void invalidValuesAreOneLineErrorsNamingTheField() {
        List<String> w = new ArrayList<>();
        String[][] cases = {
            {V1.replace("\"digest_validate\": false", "\"digest_validate\": \"yes\""), "digest_validate"},
            {V1.replace("\"mode\": \"direct\"", "\"mode\": \"fast\""), "mode"},
            {V1.replace("\"threads_count\": 4", "\"threads_count\": 0"), "threads"},
            {V1.replace("\"amplify_io\": 1048576", "\"amplify_io\": -1"), "amplify_io"},
            {V1.replace("\"type\": \"blobcache\"", "\"type\": \"memcache\""), "device.cache.type"},
            {V2_JSON.replace("\"version\": 2", "\"version\": 3"), "version"},
            {V2_TOML.replace("iostats_files = true", "iostats_files = 7"), "rafs.iostats_files"},
            {"{\"device\": {}}", "device.backend"},
            {"this is [ not a config", "neither JSON"},
        };
        for (String[] c : cases) {
            ConfigException e = assertThrows(ConfigException.class, () -> NydusdConfig.parse(c[0], w), c[1]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void localfsDirMeansBlobsAndCacheInOneDirectory() {
        NydusdConfig c = NydusdConfig.localfs(Path.of("/blobs"), new ArrayList<>());
        assertEquals("localfs", c.backendType());
        assertEquals("/blobs", c.backendConfig().get("dir").asText());
        assertEquals("blobcache", c.cacheType());
        assertEquals(Path.of("/blobs"), c.cacheWorkDir());
    }

    @Test
    void secretsNeverLeaveTheDaemon() {
        JsonNode j = NydusdConfig.parse(V1.replace("\"repo\": \"test/img\",", "\"repo\": \"test/img\", "
                + "\"registry_token\": \"tok\", \"proxy\": {\"url\": \"http://p\"},"), new ArrayList<>()).toJson(true);
        JsonNode reg = j.get("backend").get("registry");
        assertEquals("127.0.0.1:5000", reg.get("host").asText());
        assertNull(reg.get("auth"));
        assertNull(reg.get("registry_token"));
        assertEquals("http://p", reg.get("proxy").get("url").asText());
        assertFalse(j.toString().contains("dXNlcjpwYXNz"));
    }

    @Test
    void fileErrorsNameTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.json");
        ConfigException e = assertThrows(ConfigException.class, () -> NydusdConfig.load(f, new ArrayList<>()));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        Files.writeString(f, "{\"device\": {\"backend\": {\"type\": 5}}}");
        e = assertThrows(ConfigException.class, () -> NydusdConfig.load(f, new ArrayList<>()));
        assertTrue(e.getMessage().startsWith(f + ": device.backend.type"), e.getMessage());
    }
}
