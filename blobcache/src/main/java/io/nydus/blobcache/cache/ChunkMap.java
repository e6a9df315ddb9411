package io.nydus.blobcache.cache;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The readiness bitmap of one blob's cache data file, {@code <blob_id>.blob.data.chunk_map}, in upstream's
 * persistent format (notes §5.5; all integers little-endian):
 *
 * <pre>
 *   off            size          field
 *     0               4          magic      0x424D4150
 *     4               4          version    1
 *     8               4          magic2     0x434D4150
 *    12               4          all_ready  0x4D4D4150 once every chunk is ready, else 0
 *    16            4080          reserved   zero
 *  4096   ceil(chunks/8)         bitmap     chunk i is ready when byte (i &gt;&gt; 3) has bit 1 &lt;&lt; (7 - (i &amp; 7))
 * </pre>
 * The file is exactly {@code 4096 + ceil(chunks/8)} bytes; a file of another size or with a bad header is not
 * trusted and is replaced by an empty bitmap.
 *
 * <p><b>Crash safety.</b> A bit tells that the chunk's bytes in the data file are complete and verified. Bits are
 * set in memory at once ({@link #markReady}) but reach the mapped file only through {@link #takePending} /
 * {@link #persist}, which the owner calls after {@code fdatasync} of the data file. So:
 * <ul>
 * <li>a killed process (SIGKILL) leaves, in the page cache, only bits whose data was written before them;</li>
 * <li>after power loss, a bit on disk covers data that was synced before the bit was written (the bitmap pages are
 *     written back in any order, but the data was already durable). Recent chunks may lose their bit and are
 *     fetched again, which is harmless;</li>
 * <li>a bit is cleared ({@link #clear}) and the mapping synced before its chunk is rewritten.</li>
 * </ul>
 * This assumes the file system honours {@code fdatasync}/{@code msync} (it does on local ext4/xfs; a volatile
 * disk write cache without barriers voids it). With {@code validate} on, every chunk is also re-verified at its
 * first use after a start, which catches anything this assumption misses.
 *
 * <p>Readiness queries read an in-memory copy without locks; changes take this object's monitor.
 */
final class ChunkMap implements AutoCloseable {
    static final int HEADER_SIZE = 4096;
    static final int MAGIC = 0x424D4150;
    static final int VERSION = 1;
    static final int MAGIC2 = 0x434D4150;
    static final int MAGIC_ALL_READY = 0x4D4D4150;
    private static final int OFF_ALL_READY = 12;

    private final Path file;
    private final int chunks;
    private final MappedByteBuffer mapped;
    private final AtomicLongArray ready;
    private final AtomicInteger readyCount = new AtomicInteger();
    /** Set in memory, not yet in the mapped bitmap (their data is not known to be synced yet). */
    private BitSet pending = new BitSet();
    /** Cleared while a flush was between {@link #takePending} and {@link #persist}: must not be persisted. */
    private BitSet clearedDuringFlush;
    private int persistedCount;

    private ChunkMap(Path file, int chunks, MappedByteBuffer mapped) {
        this.file = file;
        this.chunks = chunks;
        this.mapped = mapped;
        this.ready = new AtomicLongArray((chunks + 63) >>> 6);
    }

    static long fileSize(int chunks) {
        return HEADER_SIZE + ((chunks + 7L) >>> 3);
    }

    /**
     * Opens the bitmap of a blob with {@code chunks} chunks, creating an empty one when the file is missing or not
     * trustworthy (wrong size, bad magic, unknown version).
     */
    static ChunkMap open(Path file, int chunks) throws IOException {
        if (chunks <= 0) {
            throw new IllegalArgumentException(file + ": chunk map needs at least one chunk, got " + chunks);
        }
        long size = fileSize(chunks);
        if (!Files.exists(file) || !isValid(file, size)) {
            byte[] empty = new byte[(int) size];
            java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(empty).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0, MAGIC).putInt(4, VERSION).putInt(8, MAGIC2);
            BlobCacheFiles.writeAtomically(file, empty);
        }
        MappedByteBuffer m;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
        }
        m.order(ByteOrder.LITTLE_ENDIAN);
        ChunkMap map = new ChunkMap(file, chunks, m);
        map.load();
        return map;
    }

    private static boolean isValid(Path file, long size) throws IOException {
        if (Files.size(file) != size) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            while (h.hasRemaining() && ch.read(h, h.position()) > 0) {
                // fill
            }
            return !h.hasRemaining() && h.getInt(0) == MAGIC && h.getInt(4) == VERSION && h.getInt(8) == MAGIC2;
        }
    }

    private void load() {
        boolean all = mapped.getInt(OFF_ALL_READY) == MAGIC_ALL_READY;
        int n = 0;
        long word = 0;
        for (int i = 0; i < chunks; i++) {
            if (all || (mapped.get(HEADER_SIZE + (i >>> 3)) & mask(i)) != 0) {
                word |= 1L << (i & 63);
                n++;
            }
            if ((i & 63) == 63 || i == chunks - 1) {
                ready.set(i >>> 6, word);
                word = 0;
            }
        }
        readyCount.set(n);
        persistedCount = n;
    }

    private static int mask(int i) {
        return 1 << (7 - (i & 7));
    }

    int chunks() {
        return chunks;
    }

    boolean isReady(int i) {
        return (ready.get(i >>> 6) & (1L << (i & 63))) != 0;
    }

    int readyCount() {
        return readyCount.get();
    }

    boolean allReady() {
        return readyCount.get() == chunks;
    }

    /** Marks a chunk whose verified bytes are in the data file; it becomes durable at the next persist. */
    synchronized void markReady(int i) {
        long bit = 1L << (i & 63);
        long prev = ready.getAndUpdate(i >>> 6, w -> w | bit);
        if ((prev & bit) == 0) {
            readyCount.incrementAndGet();
            pending.set(i);
        }
    }

    /**
     * Forgets a chunk before its data is rewritten: clears the bit in memory and on disk and syncs the mapping, so
     * that no crash can pair the bit with half-rewritten bytes.
     */
    synchronized void clear(int i) {
        long bit = 1L << (i & 63);
        long prev = ready.getAndUpdate(i >>> 6, w -> w & ~bit);
        if ((prev & bit) != 0) {
            readyCount.decrementAndGet();
        }
        pending.clear(i);
        if (clearedDuringFlush != null) {
            clearedDuringFlush.set(i);
        }
        int at = HEADER_SIZE + (i >>> 3);
        byte b = mapped.get(at);
        boolean all = mapped.getInt(OFF_ALL_READY) == MAGIC_ALL_READY;
        if (all || (b & mask(i)) != 0) {
            if (all) {
                // all_ready overrides the bitmap: spell the bitmap out before dropping it.
                for (int j = 0; j < chunks; j++) {
                    int a = HEADER_SIZE + (j >>> 3);
                    mapped.put(a, (byte) (mapped.get(a) | mask(j)));
                }
                mapped.putInt(OFF_ALL_READY, 0);
            }
            mapped.put(at, (byte) (mapped.get(at) & ~mask(i)));
            persistedCount--;
            mapped.force();
        }
    }

    /** Chunks marked ready since the last call; the caller syncs the data file, then calls {@link #persist}. */
    synchronized BitSet takePending() {
        BitSet p = pending;
        pending = new BitSet();
        clearedDuringFlush = new BitSet();
        return p;
    }

    /** Writes the bits of {@code synced} chunks (as taken by {@link #takePending}) into the mapped file. */
    synchronized void persist(BitSet synced) {
        synced.andNot(clearedDuringFlush);
        clearedDuringFlush = null;
        for (int i = synced.nextSetBit(0); i >= 0; i = synced.nextSetBit(i + 1)) {
            if (!isReady(i)) {
                continue;
            }
            int at = HEADER_SIZE + (i >>> 3);
            byte b = mapped.get(at);
            if ((b & mask(i)) == 0) {
                mapped.put(at, (byte) (b | mask(i)));
                persistedCount++;
            }
        }
        if (persistedCount == chunks) {
            mapped.putInt(OFF_ALL_READY, MAGIC_ALL_READY);
        }
    }

    /** Gives bits back after a failed sync of the data file. */
    synchronized void unpersisted(BitSet notSynced) {
        notSynced.andNot(clearedDuringFlush);
        clearedDuringFlush = null;
        pending.or(notSynced);
    }

    synchronized boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Writes the mapped bitmap back to the file. */
    synchronized void force() {
        mapped.force();
    }

    @Override
    public String toString() {
        return file.toString();
    }

    @Override
    public void close() {
        // The mapping is released by the garbage collector; the JDK offers no safe explicit unmap.
        force();
    }
}
