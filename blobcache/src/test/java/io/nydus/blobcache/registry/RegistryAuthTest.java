package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.testdata.registry.RegistryServer;
import io.nydus.testdata.registry.TokenServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Basic auth (htpasswd), docker config.json credentials and bearer tokens against real registries. */
class RegistryAuthTest {
    @TempDir
    Path work;

    private static RegistryClient client(String host, RegistryCredentials c) throws Exception {
        return new RegistryClient(RegistrySettings.builder(host).scheme("http").credentials(c).build());
    }

    private static byte[] read(RegistryClient c, String repo, String digest, long off, int len) throws Exception {
        byte[] dst = new byte[len];
        c.readBlob(repo, digest, off, dst, 0, len, ReadPriority.ON_DEMAND);
        return dst;
    }

    @Test
    void basicAuthWithTheRightPasswordWorksAndAWrongOneIsRefused() throws Exception {
        try (RegistryServer r = RegistryServer.withBasicAuth(work, "alice", "s3cret")) {
            byte[] blob = TestBlobs.random(100_000, 2);
            String d = TestBlobs.digest(blob);
            try (RegistryClient c = client(r.host(), RegistryCredentials.basic("alice", "s3cret"))) {
                c.pushBlob("private/img", d, BlobSource.ofBytes(blob));
                assertArrayEquals(Arrays.copyOfRange(blob, 500, 1500), read(c, "private/img", d, 500, 1000));
            }
            try (RegistryClient c = client(r.host(), RegistryCredentials.basic("alice", "wrong"))) {
                RegistryException e = assertThrows(RegistryException.class, () -> c.blobSize("private/img", d));
                assertEquals(401, e.status());
                assertEquals("UNAUTHORIZED", e.errorCode());
                assertTrue(e.getMessage().contains(r.host()) && e.getMessage().contains("private/img"), e.getMessage());
                // nydusd's PUT /api/v1/config registry_auth: new credentials apply without a restart
                c.updateCredentials(RegistryCredentials.fromAuth(base64("alice:s3cret")));
                assertEquals(blob.length, c.blobSize("private/img", d));
            }
            try (RegistryClient c = client(r.host(), RegistryCredentials.none())) {
                assertEquals(401, assertThrows(RegistryException.class, () -> c.blobSize("private/img", d)).status());
            }
        }
    }

    @Test
    void dockerConfigCredentialsAreFoundByHost() throws Exception {
        try (RegistryServer r = RegistryServer.withBasicAuth(work, "bob", "pw-of-bob")) {
            Path config = work.resolve("docker/config.json");
            Files.createDirectories(config.getParent());
            Files.writeString(config, "{\"auths\": {"
                    + "\"other.example.com\": {\"auth\": \"" + base64("x:y") + "\"},"
                    + "\"http://" + r.host() + "/v1/\": {\"auth\": \"" + base64("bob:pw-of-bob") + "\"}},"
                    + "\"credsStore\": \"desktop\"}");
            Optional<RegistryCredentials> found = DockerConfigCredentials.lookup(config, r.host());
            assertTrue(found.isPresent());
            assertEquals("bob", found.get().username());
            assertTrue(DockerConfigCredentials.lookup(config, "127.0.0.1:1").isEmpty());

            byte[] blob = TestBlobs.random(4096, 5);
            String d = TestBlobs.digest(blob);
            try (RegistryClient c = client(r.host(), found.get())) {
                c.pushBlob("bob/img", d, BlobSource.ofBytes(blob));
                assertArrayEquals(blob, read(c, "bob/img", d, 0, blob.length));
            }

            // username/password entries and Docker Hub aliases
            Files.writeString(config, "{\"auths\": {\"https://index.docker.io/v1/\": "
                    + "{\"username\": \"hub\", \"password\": \"pw\"}}}");
            assertEquals("hub", DockerConfigCredentials.lookup(config, "docker.io").orElseThrow().username());
            assertEquals("pw", DockerConfigCredentials.lookup(config, "registry-1.docker.io").orElseThrow().password());

            Files.writeString(config, "{\"auths\": {\"" + r.host() + "\": {\"auth\": \"not base64!\"}}}");
            java.io.IOException bad = assertThrows(java.io.IOException.class,
                    () -> DockerConfigCredentials.lookup(config, r.host()));
            assertTrue(bad.getMessage().contains(config.toString()) && bad.getMessage().contains(r.host()),
                    bad.getMessage());
            assertTrue(DockerConfigCredentials.lookup(work.resolve("absent.json"), r.host()).isEmpty());
            assertEquals(work.resolve("d/config.json"),
                    DockerConfigCredentials.defaultConfigFile(java.util.Map.of("DOCKER_CONFIG", work.resolve("d").toString())));
        }
    }

    @Test
    void bearerTokensArePostedForWithCredentialsAndCachedPerScope() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("carol", "pw");
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = client(r.host(), RegistryCredentials.basic("carol", "pw"))) {
            byte[] blob = TestBlobs.random(200_000, 9);
            String d = TestBlobs.digest(blob);
            c.pushBlob("team/app", d, BlobSource.ofBytes(blob));
            for (int i = 0; i < 20; i++) {
                assertArrayEquals(Arrays.copyOfRange(blob, i * 1000, i * 1000 + 999), read(c, "team/app", d, i * 1000, 999));
            }
            // one push token and one pull token, both by POST
            assertEquals(2, ts.issuedTokens());
            assertEquals(2, ts.postRequests());
            assertEquals(0, ts.getRequests());
            assertTrue(ts.scopesSeen().contains("repository:team/app:pull,push"), ts.scopesSeen().toString());
            assertTrue(ts.scopesSeen().contains("repository:team/app:pull"), ts.scopesSeen().toString());
        }
    }

    @Test
    void aTokenServerWithoutPostIsAskedByGetAndThatIsRemembered() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("dave", "pw").postEnabled(false)
                .accessTokenOnly(true).omitExpiresIn(true);
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = client(r.host(), RegistryCredentials.basic("dave", "pw"))) {
            byte[] blob = TestBlobs.random(10_000, 4);
            String d = TestBlobs.digest(blob);
            c.pushBlob("x/y", d, BlobSource.ofBytes(blob));
            assertArrayEquals(blob, read(c, "x/y", d, 0, blob.length));
            assertArrayEquals(blob, read(c, "x/y", d, 0, blob.length));
            assertEquals(1, ts.postRequests());
            assertEquals(2, ts.getRequests());
            assertEquals(2, ts.issuedTokens());
        }
    }

    @Test
    void anonymousPullsGetTokensByGet() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("erin", "pw").allowAnonymousPull(true);
                RegistryServer r = RegistryServer.withTokenAuth(work, ts)) {
            byte[] blob = TestBlobs.random(5000, 6);
            String d = TestBlobs.digest(blob);
            try (RegistryClient pusher = client(r.host(), RegistryCredentials.basic("erin", "pw"))) {
                pusher.pushBlob("pub/lib", d, BlobSource.ofBytes(blob));
            }
            try (RegistryClient anon = client(r.host(), RegistryCredentials.none())) {
                assertArrayEquals(blob, read(anon, "pub/lib", d, 0, blob.length));
                // anonymous clients get pull only: a push is refused with the registry's code
                RegistryException e = assertThrows(RegistryException.class,
                        () -> anon.pushBlob("pub/lib", TestBlobs.digest(new byte[] {1}), BlobSource.ofBytes(new byte[] {1})));
                assertEquals(401, e.status());
                assertEquals("UNAUTHORIZED", e.errorCode());
            }
        }
    }

    @Test
    void wrongCredentialsAtTheTokenServerFailWithItsStatus() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("frank", "pw");
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = client(r.host(), RegistryCredentials.basic("frank", "nope"))) {
            RegistryException e = assertThrows(RegistryException.class,
                    () -> c.blobSize("a/b", TestBlobs.digest(new byte[] {1})));
            assertEquals(401, e.status());
            assertTrue(e.getMessage().contains("token server " + ts.realm()), e.getMessage());
            assertFalse(e.getMessage().contains("nope"), "never shows the password");
        }
    }

    @Test
    void aRefusedTokenIsReplacedAndTheRequestRetriedOnce() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("gina", "pw");
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = client(r.host(), RegistryCredentials.basic("gina", "pw"))) {
            byte[] blob = TestBlobs.random(5000, 8);
            String d = TestBlobs.digest(blob);
            c.pushBlob("g/h", d, BlobSource.ofBytes(blob));
            int before = ts.issuedTokens();
            ts.issueUselessTokens(1);
            assertArrayEquals(blob, read(c, "g/h", d, 0, blob.length));
            assertEquals(before + 2, ts.issuedTokens(), "the refused token was replaced once");
            // a configured registry_token the registry refuses is replaced by the challenge flow
            c.updateCredentials(RegistryCredentials.basic("gina", "pw").withRegistryToken("not-a-jwt"));
            assertArrayEquals(blob, read(c, "g/h", d, 0, blob.length));
        }
    }

    @Test
    void aLongReaderKeepsWorkingAcrossManyTokenLifetimes() throws Exception {
        int lifetime = 2;
        // strict expiry: the registry refuses a token as soon as expires_in has passed
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("hank", "pw").expiresIn(lifetime)
                .strictExpiry(true);
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = client(r.host(), RegistryCredentials.basic("hank", "pw"))) {
            byte[] blob = TestBlobs.random(1 << 20, 11);
            String d = TestBlobs.digest(blob);
            c.pushBlob("long/reader", d, BlobSource.ofBytes(blob));
            int afterPush = ts.issuedTokens();
            long end = System.nanoTime() + java.time.Duration.ofSeconds(6L * lifetime).toNanos();
            java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
            Runnable reader = () -> {
                java.util.Random rnd = new java.util.Random(Thread.currentThread().getId());
                while (System.nanoTime() < end) {
                    int len = 1 + rnd.nextInt(64 << 10);
                    int off = rnd.nextInt(blob.length - len);
                    try {
                        byte[] got = read(c, "long/reader", d, off, len);
                        if (!Arrays.equals(Arrays.copyOfRange(blob, off, off + len), got)) {
                            throw new AssertionError("wrong bytes at " + off);
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    reads.incrementAndGet();
                    sleep(20);
                }
            };
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            java.util.List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit(reader));
            }
            for (java.util.concurrent.Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
            int renewed = ts.issuedTokens() - afterPush;
            assertTrue(renewed >= 5, "tokens issued while reading: " + renewed);
            assertTrue(reads.get() > 100, "reads: " + reads.get());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
