package io.nydus.nydusify;

import io.nydus.blobcache.registry.DockerConfigCredentials;
import io.nydus.blobcache.registry.RegistryCredentials;
import io.nydus.blobcache.registry.RegistrySettings;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How to talk to one side's registry: plain HTTP or TLS (optionally unverified, which also falls back to HTTP as
 * upstream's {@code --*-insecure} does), and whose credentials. Credentials come from, in order: the
 * {@code --*-creds user:pass} flag, the environment variable named by {@code credsEnv}, the docker config.json.
 */
public record RegistryOptions(boolean plainHttp, boolean insecure, String creds, String credsEnv, int retryLimit) {

    public static final String SOURCE_CREDS_ENV = "NYDUSIFY_SOURCE_CREDS";
    public static final String TARGET_CREDS_ENV = "NYDUSIFY_TARGET_CREDS";
    /** Longest silence on a connection; generous because pushes of large blobs wait for the registry's digest. */
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    public static RegistryOptions anonymous(boolean plainHttp) {
        return new RegistryOptions(plainHttp, false, null, null, 2);
    }

    public RegistrySettings settings(String host) throws IOException {
        RegistrySettings.Builder b = RegistrySettings.builder(host)
                .scheme(plainHttp ? "http" : "https")
                .skipVerify(insecure)
                .timeout(TIMEOUT)
                .connectTimeout(Duration.ofSeconds(15))
                .retryLimit(retryLimit)
                .userAgent("nydusify-java/0.1")
                .credentials(credentials(host, System.getenv()));
        return b.build();
    }

    /** The credentials for {@code host}; anonymous when none are configured anywhere. */
    public RegistryCredentials credentials(String host, Map<String, String> env) throws IOException {
        String pair = creds;
        if ((pair == null || pair.isEmpty()) && credsEnv != null) {
            pair = env.get(credsEnv);
        }
        if (pair != null && !pair.isEmpty()) {
            int colon = pair.indexOf(':');
            if (colon <= 0) {
                throw new NydusifyException("credentials for " + host + " must be user:password");
            }
            return RegistryCredentials.basic(pair.substring(0, colon), pair.substring(colon + 1));
        }
        Optional<RegistryCredentials> c = DockerConfigCredentials.lookup(
                DockerConfigCredentials.defaultConfigFile(env), host);
        return c.orElse(RegistryCredentials.none());
    }
}
