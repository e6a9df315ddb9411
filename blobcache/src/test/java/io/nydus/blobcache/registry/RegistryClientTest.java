package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.RegistryServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blob reads and errors against a real plain-HTTP docker-registry. */
class RegistryClientTest {
    @TempDir
    static Path work;
    static RegistryServer registry;
    static RegistryClient client;
    static byte[] blob;
    static String digest;

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryServer.start(work);
        client = new RegistryClient(RegistrySettings.builder(registry.host()).scheme("http").build());
        blob = TestBlobs.random(3 << 20, 1);
        digest = TestBlobs.digest(blob);
        client.pushBlob("test/reads", digest, BlobSource.ofBytes(blob));
    }

    @AfterAll
    static void stop() {
        client.close();
        registry.close();
    }

    @Test
    void headGivesTheBlobSize() throws Exception {
        assertEquals(blob.length, client.blobSize("test/reads", digest));
        assertTrue(client.blobExists("test/reads", digest));
        assertFalse(client.blobExists("test/reads", TestBlobs.digest(new byte[] {1})));
    }

    @Test
    void rangedReadsReturnExactlyTheRequestedBytes() throws Exception {
        Random r = new Random(7);
        for (int i = 0; i < 50; i++) {
            int len = 1 + r.nextInt(300_000);
            long off = r.nextInt(blob.length - len + 1);
            byte[] dst = new byte[len + 20];
            client.readBlob("test/reads", digest, off, dst, 10, len, ReadPriority.ON_DEMAND);
            assertArrayEquals(Arrays.copyOfRange(blob, (int) off, (int) off + len), Arrays.copyOfRange(dst, 10, 10 + len));
            assertEquals(0, dst[9]);
            assertEquals(0, dst[10 + len]);
        }
        byte[] tail = new byte[1];
        client.readBlob("test/reads", digest, blob.length - 1, tail, 0, 1, ReadPriority.PREFETCH);
        assertEquals(blob[blob.length - 1], tail[0]);
    }

    @Test
    void aWholeBodyAnswerToARangedReadIsSkippedToTheOffset() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").build())) {
            front.planFaults(FaultProxy.Fault.FULL_BODY, FaultProxy.Fault.FULL_BODY);
            byte[] dst = new byte[1000];
            c.readBlob("test/reads", digest, 2_000_000, dst, 0, dst.length, ReadPriority.ON_DEMAND);
            assertArrayEquals(Arrays.copyOfRange(blob, 2_000_000, 2_001_000), dst);
            c.readBlob("test/reads", digest, 0, dst, 0, dst.length, ReadPriority.ON_DEMAND);
            assertArrayEquals(Arrays.copyOfRange(blob, 0, 1000), dst);
            assertEquals(2, front.injected(FaultProxy.Fault.FULL_BODY));
            // the client's User-Agent reaches the registry
            assertEquals(RegistrySettings.DEFAULT_USER_AGENT, front.seen().get(0).header("User-Agent"));
        }
    }

    @Test
    void extraHeadersComeFromNydusHeaderVariables() throws Exception {
        Map<String, String> env = Map.of("NYDUS_HEADER_X_Tenant_Id", "team-a", "PATH", "/bin");
        assertEquals(Map.of("X-Tenant-Id", "team-a"), RegistrySettings.headersFromEnv(env));
        try (FaultProxy front = FaultProxy.start(registry.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http")
                        .extraHeaders(RegistrySettings.headersFromEnv(env)).build())) {
            c.blobSize("test/reads", digest);
            assertEquals("team-a", front.seen().get(0).header("X-Tenant-Id"));
        }
    }

    @Test
    void readsPastTheEndFailWithAClearMessage() {
        byte[] dst = new byte[100];
        RegistryException e = assertThrows(RegistryException.class,
                () -> client.readBlob("test/reads", digest, blob.length - 50, dst, 0, 100, ReadPriority.ON_DEMAND));
        assertTrue(e.getMessage().contains(registry.host()) && e.getMessage().contains("past its end"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        RegistryException beyond = assertThrows(RegistryException.class,
                () -> client.readBlob("test/reads", digest, blob.length + 10, dst, 0, 100, ReadPriority.ON_DEMAND));
        assertEquals(416, beyond.status());
    }

    @Test
    void aMissingBlobNamesHostRepoDigestStatusAndCode() {
        String missing = TestBlobs.digest(new byte[] {42});
        RegistryException e = assertThrows(RegistryException.class,
                () -> client.readBlob("test/reads", missing, 0, new byte[10], 0, 10, ReadPriority.ON_DEMAND));
        assertEquals(404, e.status());
        assertEquals("BLOB_UNKNOWN", e.errorCode());
        for (String part : new String[] {registry.host(), "test/reads", missing, "404", "BLOB_UNKNOWN"}) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
        RegistryException head = assertThrows(RegistryException.class, () -> client.blobSize("test/reads", missing));
        assertEquals("BLOB_UNKNOWN", head.errorCode());
        RegistryException other = assertThrows(RegistryException.class, () -> client.blobSize("test/nothing", digest));
        assertEquals(404, other.status());
    }

    @Test
    void anUnreachableRegistryFailsWithOneLine() throws Exception {
        int port = RegistryServer.freePort();
        try (RegistryClient c = new RegistryClient(RegistrySettings.builder("127.0.0.1:" + port).scheme("http")
                .retryLimit(2).retryBackoff(java.time.Duration.ofMillis(10)).build())) {
            RegistryException e = assertThrows(RegistryException.class, () -> c.blobSize("test/reads", digest));
            assertEquals(0, e.status());
            assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("after 2 retries"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void aStreamedBlobIsWholeAndVerified() throws Exception {
        try (InputStream in = client.openBlob("test/reads", digest)) {
            assertArrayEquals(blob, in.readAllBytes());
        }
    }

    @Test
    void aStreamedBlobIsResumedAfterATruncatedBody() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http")
                        .retryLimit(3).retryBackoff(java.time.Duration.ofMillis(10)).build())) {
            front.planFaults(FaultProxy.Fault.TRUNCATE, FaultProxy.Fault.RESET);
            try (InputStream in = c.openBlob("test/reads", digest)) {
                assertArrayEquals(blob, in.readAllBytes());
            }
            assertEquals(2, front.faultsInjected());
            // the resumed request asked for the rest only
            assertTrue(front.seen().stream().anyMatch(r -> r.header("Range") != null
                    && r.header("Range").startsWith("bytes=" + blob.length / 2 + "-")), front.seen().toString());
        }
    }

    @Test
    void aStreamedBlobWithFlippedBytesFailsItsDigestCheckSha256OrSha512() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").build())) {
            front.planFaults(FaultProxy.Fault.FLIP_BYTE);
            try (InputStream in = c.openBlob("test/reads", digest)) {
                RegistryException e = assertThrows(RegistryException.class, in::readAllBytes);
                assertTrue(e.getMessage().contains("content digest is"), e.getMessage());
            }
            // a blob named by its sha512 digest is checked the same way
            String d512 = "sha512:" + java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-512").digest(blob));
            client.pushBlob("test/reads", d512, BlobSource.ofBytes(blob));
            try (InputStream in = c.openBlob("test/reads", d512)) {
                assertArrayEquals(blob, in.readAllBytes());
            }
            front.onlyFor(r -> r.target().contains("/blobs/sha512:")).planFaults(FaultProxy.Fault.FLIP_BYTE);
            try (InputStream in = c.openBlob("test/reads", d512)) {
                RegistryException e = assertThrows(RegistryException.class, in::readAllBytes);
                assertTrue(e.getMessage().contains("content digest is sha512:"), e.getMessage());
            }
        }
    }

    @Test
    void pushFromAFileRoundTrips() throws Exception {
        Path f = work.resolve("file-blob");
        byte[] data = TestBlobs.random(777_777, 3);
        Files.write(f, data);
        String d = TestBlobs.digest(data);
        assertFalse(client.blobExists("test/files", d));
        client.pushBlob("test/files", d, BlobSource.ofFile(f));
        assertTrue(client.blobExists("test/files", d));
        try (InputStream in = client.openBlob("test/files", d)) {
            assertArrayEquals(data, in.readAllBytes());
        }
    }
}
