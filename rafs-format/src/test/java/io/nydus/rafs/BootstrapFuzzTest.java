package io.nydus.rafs;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.testdata.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutated bootstraps (bit flips, truncation, overwritten offsets and counts) either open and read back without
 * anything but format errors, or are rejected with a {@link RafsFormatException}: nothing hangs, crashes, or
 * allocates memory in proportion to a lying size field.
 */
class BootstrapFuzzTest {
    /** Cases per seed: at least 10,000 on upstream's own bootstraps, the rest on ours. */
    private static final int[] CASES = {4_000, 3_500, 3_500, 300, 1_500, 1_500};

    /** Offsets of size, count and offset fields that a liar would change. */
    private static final int[] V6_FIELDS = {1024 + 14, 1024 + 16, 1024 + 36, 1024 + 40, 1024 + 86, 1024 + 88, 1152,
        1152 + 8, 1152 + 16, 1152 + 20, 1152 + 24, 1152 + 32, 1152 + 40, 1152 + 48, 1408 + 64, 4096 + 64, 4096 + 72,
        4096 + 88, 4096 + 96, 4096 + 112, 4096 + 120, 4096 + 128};
    private static final int[] V5_FIELDS = {4, 8, 12, 16, 24, 32, 40, 48, 56, 60, 64, 68, 72, 8192, 8196, 8200};
    private static final long[] LIES = {0, 1, -1, 0x7fff_ffffL, 0xffff_ffffL, 0x8000_0000L, Long.MAX_VALUE,
        Long.MIN_VALUE, 4096, 8192, 0x1_0000_0000L, 127, 128, 255};

    private static List<byte[]> seeds() throws Exception {
        List<byte[]> s = new ArrayList<>();
        for (String f : new String[] {"bootstrap/rafs-v6-2.2.boot", "repeatable/sha256-nocompress-repeatable",
            "repeatable/blake3-lz4_block-non_repeatable", "bootstrap/nydusd_daemon_test_bootstrap"}) {
            s.add(Files.readAllBytes(Fixtures.get(f)));
        }
        s.add(SampleImages.v6());
        s.add(SampleImages.v5());
        return s;
    }

    @Test
    void mutatedBootstrapsFailCleanlyOrReadBack() throws Exception {
        List<byte[]> seeds = seeds();
        Random rnd = new Random(20261127);
        int[] outcome = new int[2];
        assertTimeoutPreemptively(Duration.ofMinutes(6), () -> {
            for (int s = 0; s < seeds.size(); s++) {
                for (int i = 0; i < CASES[s]; i++) {
                    byte[] m = mutate(seeds.get(s), rnd);
                    try {
                        exercise(m);
                        outcome[0]++;
                    } catch (RafsFormatException e) {
                        outcome[1]++;
                    } catch (Throwable t) {
                        throw new AssertionError("case " + i + " of seed " + s + ": " + t, t);
                    }
                }
            }
        });
        assertTrue(outcome[0] > 100 && outcome[1] > 100, "both outcomes occur: " + Arrays.toString(outcome));
    }

    private static byte[] mutate(byte[] base, Random rnd) {
        byte[] m = base.clone();
        boolean v6 = m.length > 1028 && ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getInt(1024) == 0xE0F5E1E2;
        int n = 1 + rnd.nextInt(3);
        for (int k = 0; k < n; k++) {
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    int pos = rnd.nextInt(m.length);
                    m[pos] ^= (byte) (1 << rnd.nextInt(8));
                }
                case 1 -> m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
                case 2 -> m = Arrays.copyOf(m, rnd.nextInt(m.length));
                case 3 -> {
                    int[] fields = v6 ? V6_FIELDS : V5_FIELDS;
                    int off = fields[rnd.nextInt(fields.length)];
                    long lie = rnd.nextBoolean() ? LIES[rnd.nextInt(LIES.length)] : rnd.nextLong();
                    put(m, off, lie, rnd.nextBoolean() ? 4 : 8);
                }
                default -> {
                    // a random 4- or 8-byte field anywhere in the metadata
                    if (m.length > 16) {
                        int off = rnd.nextInt(m.length - 8) & ~3;
                        put(m, off, LIES[rnd.nextInt(LIES.length)], rnd.nextBoolean() ? 4 : 8);
                    }
                }
            }
            if (m.length == 0) {
                break;
            }
        }
        return m;
    }

    private static void put(byte[] m, int off, long v, int width) {
        for (int i = 0; i < width && off + i < m.length; i++) {
            m[off + i] = (byte) (v >>> (8 * i));
        }
    }

    /** Opens and reads everything reachable, as the daemon and the tools would. */
    private static void exercise(byte[] image) throws Exception {
        try (RafsSuper sb = RafsSuper.open(image)) {
            sb.blobs();
            sb.prefetchInodes();
            sb.walk(e -> {
                sb.xattrs(e.ino());
                if (e.inode().isSymlink()) {
                    sb.readlink(e.ino());
                }
                if (e.inode().isReg()) {
                    int n = Math.min(e.inode().chunkCount(), 64);
                    for (int i = 0; i < n; i++) {
                        sb.chunk(e.ino(), i);
                    }
                }
                if (e.inode().isDir()) {
                    sb.lookup(e.ino(), "x");
                }
            });
        }
    }
}
