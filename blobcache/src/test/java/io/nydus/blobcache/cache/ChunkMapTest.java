package io.nydus.blobcache.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunk_map file: upstream byte layout, persistence only after sync, reopen, damaged files. */
class ChunkMapTest {
    @TempDir
    Path tmp;

    @Property(tries = 60)
    void persistedBitsReadBackInUpstreamLayout(@ForAll @IntRange(min = 1, max = 3000) int chunks,
            @ForAll @Size(max = 400) List<@IntRange(min = 0, max = 2999) Integer> marks,
            @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 2999) Integer> clears) throws IOException {
        Path dir = Files.createTempDirectory("chunkmap");
        Path file = dir.resolve("b.blob.data.chunk_map");
        try {
            checkRoundTrip(file, chunks, marks, clears);
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
    }

    private static void checkRoundTrip(Path file, int chunks, List<Integer> marks, List<Integer> clears)
            throws IOException {
        BitSet expected = new BitSet();
        try (ChunkMap map = ChunkMap.open(file, chunks)) {
            for (int m : marks) {
                if (m < chunks) {
                    map.markReady(m);
                    expected.set(m);
                }
            }
            // Nothing reaches the file before the data is synced.
            assertEquals(0, CacheTestKit.readyBits(file, chunks).cardinality());
            map.persist(map.takePending());
            for (int c : clears) {
                if (c < chunks) {
                    map.clear(c);
                    expected.clear(c);
                }
            }
            assertEquals(expected.cardinality(), map.readyCount());
        }
        assertEquals(4096 + (chunks + 7) / 8, Files.size(file));
        assertEquals(expected, CacheTestKit.readyBits(file, chunks));
        assertEquals(expected.cardinality() == chunks, CacheTestKit.allReadyFlag(file));
        try (ChunkMap again = ChunkMap.open(file, chunks)) {
            for (int i = 0; i < chunks; i++) {
                assertEquals(expected.get(i), again.isReady(i), "chunk " + i);
            }
        }
    }

    @Test
    void clearingAChunkOfACompleteMapDropsAllReady() throws IOException {
        Path file = tmp.resolve("b.blob.data.chunk_map");
        try (ChunkMap map = ChunkMap.open(file, 10)) {
            for (int i = 0; i < 10; i++) {
                map.markReady(i);
            }
            map.persist(map.takePending());
            assertTrue(CacheTestKit.allReadyFlag(file));
            map.clear(3);
        }
        assertFalse(CacheTestKit.allReadyFlag(file));
        BitSet bits = CacheTestKit.readyBits(file, 10);
        assertEquals(9, bits.cardinality());
        assertFalse(bits.get(3));
    }

    @Test
    void aChunkClearedWhileItsSyncIsUnderWayIsNotPersisted() throws IOException {
        Path file = tmp.resolve("b.blob.data.chunk_map");
        try (ChunkMap map = ChunkMap.open(file, 8)) {
            map.markReady(1);
            map.markReady(2);
            BitSet taken = map.takePending();
            map.clear(2); // its bytes are being rewritten
            map.persist(taken);
            assertEquals(BitSet.valueOf(new byte[] {0b10}), CacheTestKit.readyBits(file, 8));
        }
    }

    @Test
    void damagedFilesAreReplacedByAnEmptyMap() throws IOException {
        Path file = tmp.resolve("b.blob.data.chunk_map");
        Files.write(file, new byte[100]);
        try (ChunkMap map = ChunkMap.open(file, 16)) {
            assertEquals(0, map.readyCount());
        }
        assertEquals(4096 + 2, Files.size(file));
        byte[] bad = Files.readAllBytes(file);
        bad[0] = 1;
        bad[4096] = (byte) 0xFF;
        Files.write(file, bad);
        try (ChunkMap map = ChunkMap.open(file, 16)) {
            assertEquals(0, map.readyCount(), "bad magic: bits not trusted");
        }
        // A map for another chunk count (the blob changed) is not trusted either.
        try (ChunkMap map = ChunkMap.open(file, 17)) {
            map.markReady(16);
            map.persist(map.takePending());
        }
        try (ChunkMap map = ChunkMap.open(file, 16)) {
            assertEquals(0, map.readyCount());
        }
    }
}
