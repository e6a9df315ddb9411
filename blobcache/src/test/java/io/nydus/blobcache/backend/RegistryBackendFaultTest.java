package io.nydus.blobcache.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.DirectChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.RegistrySettings;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.FaultProxy.Fault;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupted transfers read through the registry backend and {@link DirectChunkSource} with verification: flipped
 * bytes are caught by the chunk digest (or decompression) and never returned as good data.
 */
class RegistryBackendFaultTest {
    @TempDir
    static Path work;
    static RegistryServer registry;
    static ChunkedBlob blob;
    static final String REPO = "faults/chunks";

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryServer.start(work);
        blob = new ChunkedBlob(24, 64 << 10, 3);
        try (RegistryClient c = new RegistryClient(RegistrySettings.builder(registry.host()).scheme("http").build())) {
            c.pushBlob(REPO, blob.digest(), BlobSource.ofBytes(blob.blob));
        }
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private static DirectChunkSource source(FaultProxy front) throws IOException {
        RegistryBackend backend = new RegistryBackend(new RegistryClient(RegistrySettings.builder(front.host())
                .scheme("http").retryLimit(2).retryBackoff(Duration.ofMillis(5)).build()), REPO);
        return new DirectChunkSource(List.of(blob.info), backend, true);
    }

    @Test
    void aSingleFlippedTransferIsFetchedAgain() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()); DirectChunkSource src = source(front)) {
            for (int i = 0; i < 2; i++) {
                ChunkInfo c = blob.chunks.get(i); // chunk 0 is stored raw, chunk 1 compressed
                front.planFaults(Fault.FLIP_BYTE);
                assertArrayEquals(blob.data.get(i), src.load(c, ReadPriority.ON_DEMAND));
            }
            assertEquals(2, front.injected(Fault.FLIP_BYTE));
            assertEquals(4, front.requests());
        }
    }

    @Test
    void persistentCorruptionFailsTheRead() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()); DirectChunkSource src = source(front)) {
            front.randomFaults(1.0, 1, Fault.FLIP_BYTE);
            for (int i = 0; i < 3; i++) {
                ChunkInfo c = blob.chunks.get(i);
                IOException e = assertThrows(IOException.class, () -> src.load(c, ReadPriority.ON_DEMAND));
                assertTrue(e.getMessage().contains(blob.id) && e.getMessage().contains("fetched twice"), e.getMessage());
            }
        }
    }

    @Test
    void underRandomCorruptionAndFaultsNoBadByteIsReturned() throws Exception {
        try (FaultProxy front = FaultProxy.start(registry.host()); DirectChunkSource src = source(front)) {
            front.randomFaults(0.4, 17, Fault.FLIP_BYTE, Fault.TRUNCATE, Fault.RESET, Fault.STATUS_502,
                    Fault.FULL_BODY);
            int good = 0;
            int failed = 0;
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < blob.chunks.size(); i++) {
                    try {
                        byte[] got = src.load(blob.chunks.get(i), ReadPriority.ON_DEMAND);
                        assertArrayEquals(blob.data.get(i), got, "chunk " + i);
                        good++;
                    } catch (IOException e) {
                        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
                        failed++;
                    }
                }
            }
            assertTrue(good > 60, "good " + good + ", failed " + failed);
            assertTrue(front.injected(Fault.FLIP_BYTE) > 5, "flips " + front.injected(Fault.FLIP_BYTE));
        }
    }
}
