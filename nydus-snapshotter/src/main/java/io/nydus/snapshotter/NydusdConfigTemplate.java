package io.nydus.snapshotter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code --nydusd-config} template and its rendering for one image, as upstream's
 * {@code SupplementDaemonConfig} does: for the registry backend {@code host} and {@code repo} come from the image
 * reference and credentials become {@code auth} (base64 user:pass) or {@code registry_token}; the blob cache's
 * {@code work_dir} is the snapshotter's cache directory; {@code device.id} names the snapshot. Legacy v1 JSON
 * ({@code device.backend.config}, {@code device.cache.config}) is what upstream ships; v2 JSON
 * ({@code "version": 2}, {@code backend.registry}, {@code cache.filecache}) is filled the same way.
 */
public final class NydusdConfigTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Upstream's {@code misc/snapshotter/nydusd-config.fusedev.json}, used when no template file exists. */
    static final String DEFAULT = """
            {"device": {"backend": {"type": "registry", "config": {"timeout": 5, "connect_timeout": 5,
              "retry_limit": 2}}, "cache": {"type": "blobcache"}},
             "mode": "direct", "digest_validate": false, "iostats_files": false, "enable_xattr": true,
             "amplify_io": 1048576,
             "fs_prefetch": {"enable": true, "threads_count": 8, "merging_size": 1048576, "prefetch_all": true}}
            """;

    private final ObjectNode template;
    private final String source;

    private NydusdConfigTemplate(ObjectNode template, String source) {
        this.template = template;
        this.source = source;
    }

    /** Loads {@code file}; a one-line IOException naming the file and what is wrong otherwise. */
    public static NydusdConfigTemplate load(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IOException("cannot read nydusd config " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    public static NydusdConfigTemplate builtIn() {
        try {
            return parse(DEFAULT, "built-in nydusd config");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static NydusdConfigTemplate parse(String text, String source) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException(source + ": not JSON at line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage());
        }
        if (!(n instanceof ObjectNode o)) {
            throw new IOException(source + ": not a JSON object");
        }
        NydusdConfigTemplate t = new NydusdConfigTemplate(o, source);
        if (t.isV2()) {
            if (!o.path("backend").isObject()) {
                throw new IOException(source + ": v2 config without \"backend\"");
            }
        } else if (!o.path("device").path("backend").isObject()) {
            throw new IOException(source + ": v1 config without \"device.backend\"");
        }
        return t;
    }

    private boolean isV2() {
        return template.path("version").asInt(1) == 2;
    }

    public String backendType() {
        return isV2() ? template.path("backend").path("type").asText("")
                : template.path("device").path("backend").path("type").asText("");
    }

    /**
     * Renders the config for the image {@code image} whose bootstrap layer is snapshot {@code snapshotId}.
     *
     * @param image null when the backend is not a registry (localfs, oss, s3 need no reference)
     */
    public String render(ImageReference image, String snapshotId, Path cacheDir, Optional<RegistryCredentials.Credential> auth) {
        ObjectNode c = template.deepCopy();
        boolean registry = backendType().equals("registry");
        if (registry && image == null) {
            throw new IllegalArgumentException(source + ": registry backend needs the image reference");
        }
        ObjectNode backend;
        ObjectNode cache;
        if (isV2()) {
            c.put("id", snapshotId);
            ObjectNode b = (ObjectNode) c.get("backend");
            backend = registry ? object(b, "registry") : null;
            ObjectNode ca = object(c, "cache");
            String type = ca.path("type").asText("filecache");
            cache = object(ca, type.equals("fscache") ? "fscache" : "filecache");
        } else {
            ObjectNode device = (ObjectNode) c.get("device");
            device.put("id", "/" + snapshotId);
            backend = registry ? object(object(device, "backend"), "config") : null;
            cache = object(object(device, "cache"), "config");
        }
        if (backend != null) {
            backend.put("host", image.registryHost());
            backend.put("repo", image.repo());
            auth.ifPresent(a -> {
                if (a.isToken()) {
                    backend.put("registry_token", a.secret());
                    backend.remove("auth");
                } else {
                    backend.put("auth", a.base64());
                    backend.remove("registry_token");
                }
            });
        }
        cache.put("work_dir", cacheDir.toString());
        try {
            return JSON.writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode object(ObjectNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n instanceof ObjectNode o) {
            return o;
        }
        return parent.putObject(field);
    }
}
