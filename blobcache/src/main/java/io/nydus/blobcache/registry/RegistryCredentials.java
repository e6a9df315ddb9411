package io.nydus.blobcache.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * What a client presents to a registry: a user name and password (sent as Basic auth, or exchanged for bearer
 * tokens), and/or a bearer token used as is (nydusd's {@code registry_token}). Immutable; {@link #toString()} never
 * shows secrets.
 */
public final class RegistryCredentials {
    private static final RegistryCredentials NONE = new RegistryCredentials(null, null, null);

    private final String username;
    private final String password;
    private final String registryToken;

    private RegistryCredentials(String username, String password, String registryToken) {
        this.username = username;
        this.password = password;
        this.registryToken = registryToken;
    }

    public static RegistryCredentials none() {
        return NONE;
    }

    public static RegistryCredentials basic(String username, String password) {
        return new RegistryCredentials(Objects.requireNonNull(username), Objects.requireNonNull(password), null);
    }

    /**
     * From nydusd's {@code auth} value: base64 of "user:password" (as in docker's config.json).
     *
     * @throws IllegalArgumentException when the value is not base64 of a string with a colon
     */
    public static RegistryCredentials fromAuth(String base64) {
        String pair;
        try {
            pair = new String(Base64.getDecoder().decode(base64.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("auth is not base64: " + e.getMessage());
        }
        int colon = pair.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("auth is not base64 of \"user:password\"");
        }
        return basic(pair.substring(0, colon), pair.substring(colon + 1));
    }

    /** A bearer token sent as is until the registry rejects it. */
    public static RegistryCredentials bearer(String token) {
        return new RegistryCredentials(null, null, Objects.requireNonNull(token));
    }

    /** These credentials plus a bearer token used as is. */
    public RegistryCredentials withRegistryToken(String token) {
        return new RegistryCredentials(username, password, token);
    }

    public boolean hasPassword() {
        return username != null;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    /** The configured bearer token, or null. */
    public String registryToken() {
        return registryToken;
    }

    public boolean isEmpty() {
        return username == null && registryToken == null;
    }

    /** The {@code Authorization} value for Basic auth, or null without a password. */
    public String basicAuthorization() {
        if (username == null) {
            return null;
        }
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        if (isEmpty()) {
            return "anonymous";
        }
        return (username != null ? "user " + username : "") + (username != null && registryToken != null ? " + " : "")
                + (registryToken != null ? "registry token" : "");
    }
}
