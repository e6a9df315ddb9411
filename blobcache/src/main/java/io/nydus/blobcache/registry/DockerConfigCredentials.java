package io.nydus.blobcache.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Credentials from a docker client config ({@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}),
 * the file {@code docker login}, skopeo and nerdctl write: {@code {"auths": {"<host>": {"auth": base64(user:pass)}}}}
 * or with {@code username}/{@code password}. Keys may carry a scheme or path ("https://host/v1/"); Docker Hub's
 * aliases are treated as one host. Credential helpers ({@code credsStore}, {@code credHelpers}) are not run.
 */
public final class DockerConfigCredentials {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> DOCKER_HUB = Set.of("docker.io", "index.docker.io", "registry-1.docker.io");

    private DockerConfigCredentials() {
    }

    /** The config file the docker CLI would read, given the process environment. */
    public static Path defaultConfigFile(Map<String, String> env) {
        String dir = env.get("DOCKER_CONFIG");
        if (dir != null && !dir.isEmpty()) {
            return Path.of(dir, "config.json");
        }
        return Path.of(System.getProperty("user.home"), ".docker", "config.json");
    }

    /** Looks {@code host} up in the default config file; empty when there is no file or no entry. */
    public static Optional<RegistryCredentials> lookup(String host) throws IOException {
        return lookup(defaultConfigFile(System.getenv()), host);
    }

    /**
     * Looks {@code host} ("registry.example.com:5000") up in {@code configFile}.
     *
     * @throws IOException when the file exists but is not valid JSON or its entry cannot be decoded
     */
    public static Optional<RegistryCredentials> lookup(Path configFile, String host) throws IOException {
        if (!Files.isRegularFile(configFile)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(configFile.toFile());
        } catch (IOException e) {
            throw new IOException(configFile + ": not a valid docker config: " + firstLine(e.getMessage()));
        }
        JsonNode auths = root == null ? null : root.get("auths");
        if (auths == null || !auths.isObject()) {
            return Optional.empty();
        }
        String want = normalize(host);
        for (Map.Entry<String, JsonNode> e : auths.properties()) {
            if (!normalize(e.getKey()).equals(want)) {
                continue;
            }
            JsonNode entry = e.getValue();
            try {
                String auth = entry.path("auth").asText("");
                if (!auth.isEmpty()) {
                    return Optional.of(RegistryCredentials.fromAuth(auth));
                }
                String user = entry.path("username").asText("");
                if (!user.isEmpty()) {
                    return Optional.of(RegistryCredentials.basic(user, entry.path("password").asText("")));
                }
                String token = entry.path("registrytoken").asText("");
                if (!token.isEmpty()) {
                    return Optional.of(RegistryCredentials.bearer(token));
                }
            } catch (IllegalArgumentException bad) {
                throw new IOException(configFile + ": auths[\"" + e.getKey() + "\"]: " + bad.getMessage());
            }
        }
        return Optional.empty();
    }

    /** "https://Host:5000/v1/" → "host:5000"; Docker Hub aliases → "docker.io". */
    static String normalize(String key) {
        String k = key.trim().toLowerCase(Locale.ROOT);
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        return DOCKER_HUB.contains(k) ? "docker.io" : k;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
