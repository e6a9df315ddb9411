package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where nydusd's registry credentials come from: labels, then [remote.auth.hosts], then docker's config.json. */
class RegistryCredentialsTest {
    @TempDir
    Path dir;

    private static RegistryCredentials.Credential cred(String u, String p) {
        return new RegistryCredentials.Credential(u, p);
    }

    @Test
    void labelsThenConfigThenDockerConfig() throws IOException {
        Path docker = dir.resolve("config.json");
        Files.writeString(docker, """
                {"auths": {
                  "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
                  "http://r.example:5000": {"username": "ru", "password": "rp"},
                  "tok.example": {"registrytoken": "T0K"},
                  "broken.example": {"auth": "!!!"}
                }}""");
        RegistryCredentials c = new RegistryCredentials(Map.of("r.example:5000", cred("cfg", "cfgpass")), docker);
        Map<String, String> labels = Map.of(LayerLabels.PULL_USERNAME, "lab", LayerLabels.PULL_SECRET, "labpass");
        assertEquals(Optional.of(cred("lab", "labpass")), c.find("r.example:5000", labels));
        assertEquals(Optional.of(cred("cfg", "cfgpass")), c.find("r.example:5000", Map.of()));
        assertEquals(Optional.of(cred("hub", "hubpass")), c.find("docker.io", Map.of()));
        assertEquals(Optional.of(cred("", "T0K")), c.find("tok.example", Map.of()));
        assertEquals(Optional.empty(), c.find("broken.example", Map.of()));
        assertEquals(Optional.empty(), c.find("other.example", Map.of()));

        RegistryCredentials dockerOnly = new RegistryCredentials(Map.of(), docker);
        assertEquals(Optional.of(cred("ru", "rp")), dockerOnly.find("r.example:5000", Map.of()));
        assertEquals("cnU6cnA=", dockerOnly.find("r.example:5000", Map.of()).orElseThrow().base64());
    }

    @Test
    void missingOrUnreadableDockerConfigMeansNoCredentials() throws IOException {
        assertEquals(Optional.empty(), new RegistryCredentials(Map.of(), dir.resolve("none.json")).find("h", Map.of()));
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, "{not json");
        assertEquals(Optional.empty(), new RegistryCredentials(Map.of(), garbage).find("h", Map.of()));
    }

    @Test
    void dockerKeysAreNormalised() {
        assertEquals("index.docker.io", RegistryCredentials.dockerKey("https://index.docker.io/v1/"));
        assertEquals("index.docker.io", RegistryCredentials.dockerKey("docker.io"));
        assertEquals("r.example:5000", RegistryCredentials.dockerKey("http://r.example:5000/v2/"));
        assertEquals("r.example", RegistryCredentials.dockerKey("r.example"));
    }
}
