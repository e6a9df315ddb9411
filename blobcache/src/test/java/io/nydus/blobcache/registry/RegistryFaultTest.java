package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.FaultProxy.Fault;
import io.nydus.testdata.registry.RegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Network faults between the client and a real registry: reads succeed after retries or fail clearly. */
class RegistryFaultTest {
    @TempDir
    static Path work;
    static RegistryServer registry;
    static byte[] blob;
    static String digest;
    static final String REPO = "faults/blob";

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryServer.start(work);
        blob = TestBlobs.random(2 << 20, 21);
        digest = TestBlobs.push(registry.host(), REPO, blob);
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private static RegistryClient client(FaultProxy front, int retries) throws Exception {
        return new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").retryLimit(retries)
                .retryBackoff(Duration.ofMillis(5)).timeout(Duration.ofMillis(700)).build());
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"RESET", "STATUS_500", "STATUS_502", "STATUS_503", "TRUNCATE", "STALL"})
    void aReadSucceedsAfterRetries(Fault fault) throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()).stallMillis(3000);
                RegistryClient c = client(front, 3)) {
            front.planFaults(fault, fault);
            byte[] dst = new byte[1 << 20];
            c.readBlob(REPO, digest, 12345, dst, 0, dst.length, ReadPriority.ON_DEMAND);
            assertArrayEquals(Arrays.copyOfRange(blob, 12345, 12345 + dst.length), dst);
            assertEquals(2, front.injected(fault));
            assertEquals(3, front.requests());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"RESET", "STATUS_502", "TRUNCATE", "STALL"})
    void withoutRetriesAFaultIsAOneLineError(Fault fault) throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()).stallMillis(3000);
                RegistryClient c = client(front, 0)) {
            // the JDK client itself repeats a GET once when a fresh connection is reset before any answer
            front.planFaults(fault, fault, fault, fault, fault, fault);
            byte[] dst = new byte[100_000];
            RegistryException e = assertThrows(RegistryException.class,
                    () -> c.readBlob(REPO, digest, 0, dst, 0, dst.length, ReadPriority.ON_DEMAND));
            assertTrue(e.getMessage().contains(front.host()) && e.getMessage().contains(digest)
                    && e.getMessage().contains(REPO), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            if (fault == Fault.STATUS_502) {
                assertEquals(502, e.status());
            }
            if (fault == Fault.TRUNCATE) {
                assertTrue(e.getMessage().contains("body ended after"), e.getMessage());
            }
            if (fault == Fault.STALL) {
                assertTrue(e.getMessage().contains("no data for"), e.getMessage());
            }
        }
    }

    @Test
    void aHeadSurvivesResetsAndErrors() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()); RegistryClient c = client(front, 2)) {
            front.planFaults(Fault.RESET, Fault.STATUS_503);
            assertEquals(blob.length, c.blobSize(REPO, digest));
        }
    }

    @Test
    void underRandomFaultsEveryReadIsCorrectOrFailsCleanly() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()).stallMillis(1500);
                RegistryClient c = client(front, 2)) {
            front.randomFaults(0.35, 99, Fault.RESET, Fault.STATUS_500, Fault.STATUS_503, Fault.TRUNCATE, Fault.STALL,
                    Fault.FULL_BODY);
            Random r = new Random(5);
            int ok = 0;
            int failed = 0;
            for (int i = 0; i < 120; i++) {
                int len = 1 + r.nextInt(200_000);
                int off = r.nextInt(blob.length - len);
                byte[] dst = new byte[len];
                try {
                    c.readBlob(REPO, digest, off, dst, 0, len, ReadPriority.ON_DEMAND);
                    assertArrayEquals(Arrays.copyOfRange(blob, off, off + len), dst, "read " + i);
                    ok++;
                } catch (RegistryException e) {
                    assertFalse(e.getMessage().contains("\n"));
                    assertTrue(e.getMessage().contains("after 2 retries") || e.status() >= 500, e.getMessage());
                    failed++;
                }
            }
            assertTrue(ok > 100, "ok " + ok + ", failed " + failed);
            assertTrue(front.faultsInjected() > 30, "faults " + front.faultsInjected());
        }
    }

    @Test
    void flippedBytesReachTheCallerOfARawRangeRead() throws Exception {
        // A ranged read cannot verify what it got (only chunk digests can: see RegistryBackendFaultTest); this
        // shows that the fault is real, and that the digest check of a whole-blob stream catches it.
        try (FaultProxy front = FaultProxy.start(registry.host()); RegistryClient c = client(front, 0)) {
            front.planFaults(Fault.FLIP_BYTE);
            byte[] dst = new byte[1000];
            c.readBlob(REPO, digest, 0, dst, 0, dst.length, ReadPriority.ON_DEMAND);
            assertFalse(Arrays.equals(Arrays.copyOfRange(blob, 0, 1000), dst));
        }
    }
}
