package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where the registry credentials nydusd gets come from, first match wins: the pull's labels
 * ({@code containerd.io/snapshot/pullusername} / {@code pullsecret}), the snapshotter config's
 * {@code [remote.auth.hosts."<host>"]} tables, then a docker {@code config.json} ({@code auths} entries, then
 * {@code credHelpers} / {@code credsStore} helpers) — upstream reads the same docker file.
 */
public final class RegistryCredentials {
    /** A username and secret; an empty username with a secret is a bearer token ({@code registry_token}). */
    public record Credential(String username, String secret) {
        public boolean isToken() {
            return username.isEmpty();
        }

        /** nydusd's {@code auth}: base64 of {@code user:pass}. */
        public String base64() {
            return Base64.getEncoder().encodeToString((username + ":" + secret).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Credential> configured;
    private final Path dockerConfig;

    /**
     * @param configured  per-host credentials from the snapshotter config
     * @param dockerConfig docker's config.json (may not exist)
     */
    public RegistryCredentials(Map<String, Credential> configured, Path dockerConfig) {
        this.configured = Map.copyOf(configured);
        this.dockerConfig = dockerConfig;
    }

    public Optional<Credential> find(String host, Map<String, String> labels) {
        String user = labels.get(LayerLabels.PULL_USERNAME);
        String secret = labels.get(LayerLabels.PULL_SECRET);
        if (user != null && !user.isEmpty() && secret != null && !secret.isEmpty()) {
            return Optional.of(new Credential(user, secret));
        }
        Credential c = configured.get(host);
        if (c != null) {
            return Optional.of(c);
        }
        return fromDockerConfig(host);
    }

    private Optional<Credential> fromDockerConfig(String host) {
        if (dockerConfig == null || !Files.isRegularFile(dockerConfig)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(dockerConfig.toFile());
        } catch (IOException e) {
            Log.warn("ignoring unreadable docker config %s: %s", dockerConfig, e.getMessage());
            return Optional.empty();
        }
        String key = dockerKey(host);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("auths").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (dockerKey(e.getKey()).equals(key)) {
                Optional<Credential> c = decodeEntry(e.getValue());
                if (c.isPresent()) {
                    return c;
                }
            }
        }
        String helper = root.path("credHelpers").path(key).asText("");
        if (helper.isEmpty()) {
            helper = root.path("credsStore").asText("");
        }
        return helper.isEmpty() ? Optional.empty() : fromHelper(helper, key);
    }

    /** Normalises a docker config key: scheme and path dropped; Docker Hub under its legacy index URL's host. */
    static String dockerKey(String key) {
        String k = key;
        int s = k.indexOf("://");
        if (s >= 0) {
            k = k.substring(s + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        if (k.equals("docker.io") || k.equals("registry-1.docker.io") || k.equals("index.docker.io")) {
            return "index.docker.io";
        }
        return k;
    }

    private static Optional<Credential> decodeEntry(JsonNode entry) {
        String auth = entry.path("auth").asText("");
        if (!auth.isEmpty()) {
            String plain;
            try {
                plain = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            int colon = plain.indexOf(':');
            if (colon > 0) {
                return Optional.of(new Credential(plain.substring(0, colon), plain.substring(colon + 1)));
            }
        }
        String user = entry.path("username").asText("");
        String pass = entry.path("password").asText("");
        if (!user.isEmpty() && !pass.isEmpty()) {
            return Optional.of(new Credential(user, pass));
        }
        String token = entry.path("registrytoken").asText("");
        if (!token.isEmpty()) {
            return Optional.of(new Credential("", token));
        }
        return Optional.empty();
    }

    /** Runs {@code docker-credential-<helper> get} with the host on stdin, as docker does. */
    private static Optional<Credential> fromHelper(String helper, String host) {
        String server = host.equals("index.docker.io") ? "https://index.docker.io/v1/" : host;
        try {
            Process p = new ProcessBuilder("docker-credential-" + helper, "get")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().write(server.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.empty();
            }
            JsonNode n = JSON.readTree(out);
            String user = n.path("Username").asText("");
            String secret = n.path("Secret").asText("");
            if (secret.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Credential(user.equals("<token>") ? "" : user, secret));
        } catch (IOException e) {
            Log.debug("credential helper %s: %s", helper, e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
