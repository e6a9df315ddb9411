package io.nydus.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.backend.BlobBackends;
import io.nydus.blobcache.cache.CacheConfig;
import io.nydus.blobcache.cache.PrefetchConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A nydusd configuration (notes §5.2), read from upstream's three formats in upstream's order: JSON v2, TOML v2,
 * then legacy JSON v1 ({@code device.backend/cache} + top-level RAFS keys), which is mapped onto the v2 shape.
 * Unknown keys are reported as warnings; a value of the wrong type or out of range is a {@link ConfigException}
 * naming the key. Backend keys are checked by the backend factory when the backend is created.
 */
public final class NydusdConfig {
    public static final String MODE_DIRECT = "direct";
    public static final String MODE_CACHED = "cached";
    /** Upstream {@code default_user_io_batch_size} and {@code default_prefetch_batch_size}. */
    public static final long DEFAULT_BATCH_SIZE = 1 << 20;
    public static final int DEFAULT_PREFETCH_THREADS = 8;
    private static final long MAX_BATCH_SIZE = 0x1000_0000L;
    private static final int MAX_THREADS = 1024;
    /** Upstream refuses configuration files above 1 MiB. */
    private static final long MAX_FILE_SIZE = 1 << 20;
    /** Keys whose values never leave the daemon (API output, logs). */
    private static final Set<String> SECRET_KEYS = Set.of("auth", "registry_token", "access_key_id",
            "access_key_secret", "token", "password", "encryption_key");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TomlMapper TOML = new TomlMapper();

    /** Prefetch settings ({@code fs_prefetch} in v1, {@code prefetch} in v2). */
    public record Prefetch(boolean enable, int threads, long batchSize, long bandwidthLimit, boolean prefetchAll) {
        public static final Prefetch DISABLED = new Prefetch(false, DEFAULT_PREFETCH_THREADS, DEFAULT_BATCH_SIZE, 0,
                false);

        PrefetchConfig toCache() {
            return new PrefetchConfig(enable, threads, batchSize, bandwidthLimit, prefetchAll);
        }

        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("enable", enable);
            o.put("threads", threads);
            o.put("batch_size", batchSize);
            o.put("bandwidth_limit", bandwidthLimit);
            o.put("prefetch_all", prefetchAll);
            return o;
        }
    }

    private final int sourceVersion;
    private final String id;
    private final String backendType;
    private final ObjectNode backendConfig;
    private final String cacheType;
    private final boolean cacheCompressed;
    private final boolean cacheValidate;
    private final Path cacheWorkDir;
    private final Prefetch cachePrefetch;
    private final String mode;
    private final long batchSize;
    private final boolean validate;
    private final boolean enableXattr;
    private final boolean iostatsFiles;
    private final boolean accessPattern;
    private final boolean latestReadFiles;
    private final Prefetch rafsPrefetch;

    private NydusdConfig(Builder b) {
        this.sourceVersion = b.sourceVersion;
        this.id = b.id;
        this.backendType = b.backendType;
        this.backendConfig = b.backendConfig;
        this.cacheType = b.cacheType;
        this.cacheCompressed = b.cacheCompressed;
        this.cacheValidate = b.cacheValidate;
        this.cacheWorkDir = b.cacheWorkDir;
        this.cachePrefetch = b.cachePrefetch;
        this.mode = b.mode;
        this.batchSize = b.batchSize;
        this.validate = b.validate;
        this.enableXattr = b.enableXattr;
        this.iostatsFiles = b.iostatsFiles;
        this.accessPattern = b.accessPattern;
        this.latestReadFiles = b.latestReadFiles;
        this.rafsPrefetch = b.rafsPrefetch;
    }

    /** Reads a configuration file; errors name the file. */
    public static NydusdConfig load(Path file, List<String> warnings) {
        try {
            if (Files.size(file) > MAX_FILE_SIZE) {
                throw new ConfigException(file + ": configuration file is larger than 1 MiB");
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), warnings, file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such configuration file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read configuration: " + e.getMessage());
        }
    }

    public static NydusdConfig parse(String text, List<String> warnings) {
        return parse(text, warnings, "config");
    }

    /** Parses configuration text; {@code origin} prefixes error messages. */
    public static NydusdConfig parse(String text, List<String> warnings, String origin) {
        JsonNode json = null;
        String jsonError;
        try {
            json = JSON.readTree(text);
            jsonError = null;
        } catch (JsonProcessingException e) {
            jsonError = e.getOriginalMessage();
        }
        if (json != null && json.isObject()) {
            // JSON v2 when it says version 2; otherwise the legacy v1 layout.
            return json.has("version") ? fromV2(json, origin, warnings) : fromV1(json, origin, warnings);
        }
        if (json != null) {
            throw new ConfigException(origin + ": configuration must be a JSON object or a TOML document");
        }
        JsonNode toml;
        try {
            toml = TOML.readTree(text);
        } catch (IOException e) {
            throw new ConfigException(origin + ": neither JSON (" + jsonError + ") nor TOML ("
                    + (e.getMessage() == null ? "invalid" : NydusdLog.firstLine(e.getMessage())) + ")");
        }
        if (toml == null || !toml.isObject() || toml.isEmpty()) {
            throw new ConfigException(origin + ": empty configuration");
        }
        return fromV2(toml, origin, warnings);
    }

    /** The configuration upstream derives from {@code -D/--localfs-dir}: blobs and cache files in one directory. */
    public static NydusdConfig localfs(Path dir, List<String> warnings) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode device = root.putObject("device");
        ObjectNode backend = device.putObject("backend");
        backend.put("type", "localfs");
        backend.putObject("config").put("dir", dir.toString()).put("readahead", true);
        ObjectNode cache = device.putObject("cache");
        cache.put("type", "blobcache");
        cache.putObject("config").put("compressed", false).put("work_dir", dir.toString());
        root.put("mode", MODE_DIRECT);
        root.put("digest_validate", false);
        root.put("iostats_files", false);
        return fromV1(root, "--localfs-dir", warnings);
    }

    // ---------------------------------------------------------------------------------------------------------
    // v2 (JSON or TOML)

    private static NydusdConfig fromV2(JsonNode root, String origin, List<String> warnings) {
        Obj top = new Obj(root, origin, "", warnings);
        long version = top.number("version", 0, 0, Long.MAX_VALUE);
        if (version != 2) {
            throw new ConfigException(origin + ": version: unsupported configuration version " + root.get("version")
                    + " (expected 2, or no version for the legacy JSON layout)");
        }
        Builder b = new Builder();
        b.sourceVersion = 2;
        b.id = top.string("id", "");
        top.known("external_backends", "overlay");
        Obj backend = top.object("backend");
        if (backend != null) {
            b.backendType = backend.requiredString("type");
            JsonNode own = null;
            for (String t : List.of("localfs", "localdisk", "oss", "s3", "registry", "http-proxy")) {
                JsonNode n = backend.raw(t);
                if (n != null && t.equals(b.backendType)) {
                    own = n;
                }
            }
            if (own != null && !own.isObject()) {
                throw new ConfigException(origin + ": backend." + b.backendType + ": expected a table/object");
            }
            b.backendConfig = own == null ? JSON.createObjectNode() : ((ObjectNode) own).deepCopy();
            backend.done();
        }
        Obj cache = top.object("cache");
        if (cache != null) {
            b.cacheType = cache.string("type", "");
            b.cacheCompressed = cache.bool("compressed", false);
            b.cacheValidate = cache.bool("validate", false);
            Obj p = cache.object("prefetch");
            b.cachePrefetch = p == null ? Prefetch.DISABLED : prefetchV2(p, false);
            Obj fc = cache.object("filecache");
            Obj fsc = cache.object("fscache");
            b.cacheWorkDir = checkCacheType(origin, "cache.type", b.cacheType, fc, fsc);
            cache.done();
        }
        Obj rafs = top.object("rafs");
        if (rafs != null) {
            b.mode = rafs.string("mode", MODE_DIRECT);
            b.batchSize = rafs.number("batch_size", DEFAULT_BATCH_SIZE, 0, MAX_BATCH_SIZE);
            b.validate = rafs.bool("validate", false);
            b.enableXattr = rafs.bool("enable_xattr", false);
            b.iostatsFiles = rafs.bool("iostats_files", false);
            b.accessPattern = rafs.bool("access_pattern", false);
            b.latestReadFiles = rafs.bool("latest_read_files", false);
            Obj p = rafs.object("prefetch");
            b.rafsPrefetch = p == null ? Prefetch.DISABLED : prefetchV2(p, false);
            rafs.done();
        }
        top.done();
        return b.build(origin);
    }

    private static Prefetch prefetchV2(Obj p, boolean prefetchAllDefault) {
        boolean enable = p.bool("enable", false);
        long threads = p.has("threads") ? p.number("threads", DEFAULT_PREFETCH_THREADS, 0, Integer.MAX_VALUE)
                : p.number("threads_count", DEFAULT_PREFETCH_THREADS, 0, Integer.MAX_VALUE);
        p.known("threads", "threads_count");
        long batch = p.number("batch_size", DEFAULT_BATCH_SIZE, 0, Long.MAX_VALUE);
        long bw = p.number("bandwidth_limit", 0, 0, 0xFFFF_FFFFL);
        boolean all = p.bool("prefetch_all", prefetchAllDefault);
        p.known("stream_prefetch");
        Prefetch pf = new Prefetch(enable, (int) threads, batch, bw, all);
        p.done();
        return checkPrefetch(p.where, pf);
    }

    private static Prefetch checkPrefetch(String where, Prefetch p) {
        if (p.enable()) {
            if (p.threads() < 1 || p.threads() > MAX_THREADS) {
                throw new ConfigException(where + "threads: " + p.threads() + " prefetch threads, expected 1 to "
                        + MAX_THREADS);
            }
            if (p.batchSize() > MAX_BATCH_SIZE) {
                throw new ConfigException(where + "batch_size: " + p.batchSize() + " is larger than " + MAX_BATCH_SIZE);
            }
        }
        return p;
    }

    /** Checks a cache type and returns the work directory of a file cache (null for none). */
    private static Path checkCacheType(String origin, String key, String type, Obj filecache, Obj fscache) {
        Path workDir = null;
        switch (type) {
            case "blobcache", "filecache" -> {
                String wd = filecache == null ? "." : filecache.string("work_dir", ".");
                if (filecache != null) {
                    filecache.bool("disable_indexed_map", false);
                    filecache.bool("enable_encryption", false);
                    filecache.bool("enable_convergent_encryption", false);
                    filecache.string("encryption_key", "");
                    filecache.bool("compressed", false);
                    filecache.done();
                }
                if (wd.isEmpty()) {
                    throw new ConfigException(origin + ": work_dir: empty cache work directory");
                }
                workDir = Path.of(wd);
            }
            case "", "dummycache", "dummy" -> {
                // No cache: a filecache section is irrelevant, not wrong.
            }
            case "fscache" -> throw new ConfigException(origin + ": " + key
                    + ": 'fscache' needs the kernel's on-demand fscache, which this daemon does not provide");
            default -> throw new ConfigException(origin + ": " + key + ": unsupported cache type '" + type
                    + "' (expected blobcache, filecache, dummycache or empty)");
        }
        if (fscache != null) {
            fscache.string("work_dir", ".");
            fscache.done();
        }
        return workDir;
    }

    // ---------------------------------------------------------------------------------------------------------
    // v1 (legacy JSON)

    private static NydusdConfig fromV1(JsonNode root, String origin, List<String> warnings) {
        Obj top = new Obj(root, origin, "", warnings);
        Builder b = new Builder();
        b.sourceVersion = 1;
        Obj device = top.object("device");
        if (device == null) {
            throw new ConfigException(origin + ": device: missing (legacy configuration needs device.backend)");
        }
        b.id = device.string("id", "");
        device.known("external_backends");
        Obj backend = device.object("backend");
        if (backend == null) {
            throw new ConfigException(origin + ": device.backend: missing");
        }
        b.backendType = backend.requiredString("type");
        JsonNode bc = backend.raw("config");
        if (bc != null && !bc.isObject() && !bc.isNull()) {
            throw new ConfigException(origin + ": device.backend.config: expected an object");
        }
        b.backendConfig = bc == null || bc.isNull() ? JSON.createObjectNode() : ((ObjectNode) bc).deepCopy();
        backend.done();
        Obj cache = device.object("cache");
        if (cache != null) {
            b.cacheType = cache.string("type", "");
            b.cacheCompressed = cache.bool("compressed", false);
            b.cacheValidate = cache.bool("validate", false);
            Obj cfg = cache.object("config");
            boolean file = b.cacheType.equals("blobcache") || b.cacheType.equals("filecache");
            // The meaning of device.cache.config depends on the type; a dummy cache ignores it.
            b.cacheWorkDir = checkCacheType(origin, "device.cache.type", b.cacheType, file ? cfg : null,
                    b.cacheType.equals("fscache") ? cfg : null);
            cache.known("prefetch_config");
            cache.done();
        }
        device.done();
        b.mode = top.string("mode", MODE_DIRECT);
        b.validate = top.bool("digest_validate", false);
        b.iostatsFiles = top.bool("iostats_files", false);
        b.enableXattr = top.bool("enable_xattr", false);
        b.accessPattern = top.bool("access_pattern", false);
        b.latestReadFiles = top.bool("latest_read_files", false);
        b.batchSize = top.number("amplify_io", DEFAULT_BATCH_SIZE, 0, MAX_BATCH_SIZE);
        Obj fp = top.object("fs_prefetch");
        if (fp != null) {
            boolean enable = fp.bool("enable", false);
            long threads = fp.number("threads_count", DEFAULT_PREFETCH_THREADS, 0, Integer.MAX_VALUE);
            long merging = fp.number("merging_size", DEFAULT_BATCH_SIZE, 0, Long.MAX_VALUE);
            long bw = fp.number("bandwidth_rate", 0, 0, 0xFFFF_FFFFL);
            // Upstream's v1 default for prefetch_all is true.
            boolean all = fp.bool("prefetch_all", true);
            fp.known("stream_prefetch");
            fp.done();
            b.rafsPrefetch = checkPrefetch(fp.where, new Prefetch(enable, (int) threads, merging, bw, all));
        }
        // v1 has no cache-level prefetch: the cache prefetches what the filesystem asks for.
        if (b.rafsPrefetch.enable() && !b.cachePrefetch.enable()) {
            b.cachePrefetch = b.rafsPrefetch;
        }
        top.done();
        return b.build(origin);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Which format the file was in: 1 (legacy JSON) or 2. */
    public int sourceVersion() {
        return sourceVersion;
    }

    public String id() {
        return id;
    }

    /** Null when the configuration has no backend section. */
    public String backendType() {
        return backendType;
    }

    public JsonNode backendConfig() {
        return backendConfig == null ? null : backendConfig.deepCopy();
    }

    public String cacheType() {
        return cacheType;
    }

    public Path cacheWorkDir() {
        return cacheWorkDir;
    }

    public String mode() {
        return mode;
    }

    /** Upstream {@code amplify_io} / {@code rafs.batch_size}. */
    public long batchSize() {
        return batchSize;
    }

    /** Verify chunk digests ({@code digest_validate} / {@code rafs.validate}). */
    public boolean validate() {
        return validate;
    }

    public boolean cacheValidate() {
        return cacheValidate;
    }

    public boolean enableXattr() {
        return enableXattr;
    }

    public boolean iostatsFiles() {
        return iostatsFiles;
    }

    public boolean accessPattern() {
        return accessPattern;
    }

    public boolean latestReadFiles() {
        return latestReadFiles;
    }

    /** Filesystem-level prefetch: the prefetch table, {@code --prefetch-files}, {@code prefetch_all}. */
    public Prefetch rafsPrefetch() {
        return rafsPrefetch;
    }

    public Prefetch cachePrefetch() {
        return cachePrefetch;
    }

    /** The chunk cache settings handed to {@code ChunkSources.open}. */
    public CacheConfig cacheConfig() {
        Prefetch p = cachePrefetch.enable() ? cachePrefetch : rafsPrefetch;
        return new CacheConfig(cacheType, cacheWorkDir, cacheCompressed, cacheValidate || validate, batchSize, 0,
                p.toCache());
    }

    /**
     * Creates the backend. {@code IMAGE_PULL_AUTH} (base64 "user:pass") overrides a registry backend's
     * {@code auth}, as upstream.
     */
    public BlobBackend createBackend(List<String> warnings) {
        if (backendType == null) {
            throw new ConfigException("configuration has no backend");
        }
        ObjectNode cfg = backendConfig.deepCopy();
        String envAuth = System.getenv("IMAGE_PULL_AUTH");
        if (backendType.equals("registry") && envAuth != null && !envAuth.isEmpty()) {
            cfg.put("auth", envAuth);
        }
        try {
            return BlobBackends.create(backendType, cfg, warnings);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /** The configuration in upstream's v2 JSON shape; secrets replaced when {@code redact}. */
    public ObjectNode toJson(boolean redact) {
        ObjectNode o = JSON.createObjectNode();
        o.put("version", 2);
        o.put("id", id);
        if (backendType != null) {
            ObjectNode be = o.putObject("backend");
            be.put("type", backendType);
            ObjectNode own = backendConfig.deepCopy();
            if (redact) {
                redact(own);
            }
            be.set(backendType, own);
        }
        ObjectNode c = o.putObject("cache");
        c.put("type", cacheType);
        c.put("compressed", cacheCompressed);
        c.put("validate", cacheValidate);
        c.set("prefetch", cachePrefetch.toJson());
        if (cacheWorkDir != null) {
            c.putObject("filecache").put("work_dir", cacheWorkDir.toString());
        }
        ObjectNode r = o.putObject("rafs");
        r.put("mode", mode);
        r.put("batch_size", batchSize);
        r.put("validate", validate);
        r.put("enable_xattr", enableXattr);
        r.put("iostats_files", iostatsFiles);
        r.put("access_pattern", accessPattern);
        r.put("latest_read_files", latestReadFiles);
        r.set("prefetch", rafsPrefetch.toJson());
        return o;
    }

    private static void redact(JsonNode n) {
        if (n instanceof ObjectNode obj) {
            for (Iterator<String> it = obj.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (SECRET_KEYS.contains(k)) {
                    it.remove();
                } else {
                    redact(obj.get(k));
                }
            }
        } else if (n != null && n.isArray()) {
            n.forEach(NydusdConfig::redact);
        }
    }

    private static final class Builder {
        int sourceVersion;
        String id = "";
        String backendType;
        ObjectNode backendConfig;
        String cacheType = "";
        boolean cacheCompressed;
        boolean cacheValidate;
        Path cacheWorkDir;
        Prefetch cachePrefetch = Prefetch.DISABLED;
        String mode = MODE_DIRECT;
        long batchSize = DEFAULT_BATCH_SIZE;
        boolean validate;
        boolean enableXattr;
        boolean iostatsFiles;
        boolean accessPattern;
        boolean latestReadFiles;
        Prefetch rafsPrefetch = Prefetch.DISABLED;

        NydusdConfig build(String origin) {
            if (!mode.equals(MODE_DIRECT) && !mode.equals(MODE_CACHED)) {
                throw new ConfigException(origin + ": mode: '" + mode + "' is not 'direct' or 'cached'");
            }
            if (backendType != null && backendType.isEmpty()) {
                throw new ConfigException(origin + ": backend type is empty");
            }
            return new NydusdConfig(this);
        }
    }

    /** One object of the document: typed getters that remember which keys were read, to warn on the others. */
    private static final class Obj {
        final JsonNode node;
        final String origin;
        final String where;
        final List<String> warnings;
        final Set<String> seen = new HashSet<>();

        Obj(JsonNode node, String origin, String where, List<String> warnings) {
            this.node = node;
            this.origin = origin;
            this.where = where;
            this.warnings = warnings;
        }

        private ConfigException bad(String key, String expected, JsonNode v) {
            return new ConfigException(origin + ": " + where + key + ": expected " + expected + ", got " + v);
        }

        boolean has(String key) {
            JsonNode v = node.get(key);
            return v != null && !v.isNull();
        }

        void known(String... keys) {
            seen.addAll(List.of(keys));
        }

        JsonNode raw(String key) {
            seen.add(key);
            return node.get(key);
        }

        boolean bool(String key, boolean def) {
            JsonNode v = raw(key);
            if (v == null || v.isNull()) {
                return def;
            }
            if (!v.isBoolean()) {
                throw bad(key, "true or false", v);
            }
            return v.booleanValue();
        }

        long number(String key, long def, long min, long max) {
            JsonNode v = raw(key);
            if (v == null || v.isNull()) {
                return def;
            }
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw bad(key, "an integer", v);
            }
            long x = v.longValue();
            if (x < min || x > max) {
                throw new ConfigException(origin + ": " + where + key + ": " + x + " is out of range [" + min + ", "
                        + max + "]");
            }
            return x;
        }

        String string(String key, String def) {
            JsonNode v = raw(key);
            if (v == null || v.isNull()) {
                return def;
            }
            if (!v.isTextual()) {
                throw bad(key, "a string", v);
            }
            return v.textValue();
        }

        String requiredString(String key) {
            String s = string(key, null);
            if (s == null) {
                throw new ConfigException(origin + ": " + where + key + ": missing");
            }
            return s;
        }

        Obj object(String key) {
            JsonNode v = raw(key);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isObject()) {
                throw bad(key, "an object", v);
            }
            return new Obj(v, origin, where + key + ".", warnings);
        }

        void done() {
            for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!seen.contains(k)) {
                    warnings.add(origin + ": unknown key '" + where + k + "' ignored");
                }
            }
        }
    }
}
