package io.nydus.blobcache.cache;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobSections;
import io.nydus.rafs.blob.CiTable;
import io.nydus.rafs.blob.TarHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongConsumer;

/**
 * The cache state of one blob in one work dir: its data file, readiness bitmap, the chunks verified since this
 * process started, the chunks in flight, and the blob's ci table and chunk digests once loaded. Shared by every
 * mounted image that uses the blob; owned by {@link CacheSpace}.
 *
 * <p>Blobs with a chunk count are tracked by chunk index in a persistent {@link ChunkMap}. v5 blobs without an
 * extended blob table have no chunk count: their readiness is kept in memory, keyed by chunk digest, and starts
 * empty at every start (as upstream's digested chunk map).
 *
 * <p>Lifecycle: operations {@link #tryRetain retain} the blob and release it afterwards; the blob can only be
 * closed (evicted, deleted, or left by its last image) while no operation holds it.
 */
final class CachedBlob {
    private static final int CLOSED = Integer.MIN_VALUE;
    private static final long MAX_META_FILE = (1L << 24) * CiTable.V2_SIZE + (128L << 20);
    /**
     * Read-only channels on the data file, picked by thread: a FileChannel serialises the bookkeeping of every
     * read (its native thread set), so readers on many FUSE threads share it less this way.
     */
    private static final int READ_CHANNELS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    final BlobInfo info;
    final BlobCacheFiles files;
    final InflightFetches inflight = new InflightFetches();
    private final FileChannel data;
    private final FileChannel[] readers;
    /** Null for blobs without a chunk count. */
    private final ChunkMap map;
    /** Chunk indexes whose cached bytes were checked against their digest since this process opened the blob. */
    private final AtomicLongArray verified;
    /** Readiness of blobs without a chunk count: digests of chunks fetched (and verified) in this process. */
    private final Set<ByteBuffer> readyDigests;
    private final AtomicInteger users = new AtomicInteger();
    private final AtomicLong dataEnd;
    private final AtomicLong bytes;
    private final LongConsumer onGrow;
    private final Object loadLock = new Object();
    private final Object flushLock = new Object();
    private volatile long lastAccess = System.currentTimeMillis();
    private volatile CiTable ciTable;
    private volatile byte[] digests;
    private volatile boolean digestsAbsent;
    /** Images holding this blob; guarded by the owning {@link CacheSpace}'s map entry. */
    int holders;

    private CachedBlob(BlobInfo info, BlobCacheFiles files, FileChannel data, FileChannel[] readers, ChunkMap map,
            LongConsumer onGrow) throws IOException {
        this.info = info;
        this.files = files;
        this.data = data;
        this.readers = readers;
        this.map = map;
        this.verified = map == null ? null : new AtomicLongArray((map.chunks() + 63) >>> 6);
        this.readyDigests = map == null ? ConcurrentHashMap.newKeySet() : null;
        this.dataEnd = new AtomicLong(data.size());
        this.bytes = new AtomicLong(files.bytesOnDisk());
        this.onGrow = onGrow;
    }

    /** Whether a blob's readiness can be tracked by index in a persistent bitmap. */
    static boolean indexed(BlobInfo info) {
        return info.chunkCount() > 0 && !info.hasFeature(BlobFeatures.V5_NO_EXT_BLOB_TABLE);
    }

    /**
     * Opens (creating as needed) the cache files of a blob.
     *
     * @param onGrow told how many bytes the cache files grew by
     */
    static CachedBlob open(BlobCacheFiles files, BlobInfo info, LongConsumer onGrow) throws IOException {
        Files.createDirectories(files.workDir());
        boolean hadData = Files.exists(files.data());
        ChunkMap map = null;
        if (indexed(info)) {
            if (!hadData) {
                // A bitmap without its data file describes nothing: start over.
                Files.deleteIfExists(files.chunkMap());
            }
            map = ChunkMap.open(files.chunkMap(), info.chunkCount());
        }
        FileChannel ch = FileChannel.open(files.data(), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileChannel[] readers = new FileChannel[READ_CHANNELS];
        try {
            for (int i = 0; i < readers.length; i++) {
                readers[i] = FileChannel.open(files.data(), StandardOpenOption.READ);
            }
            return new CachedBlob(info, files, ch, readers, map, onGrow);
        } catch (IOException | RuntimeException e) {
            for (FileChannel r : readers) {
                if (r != null) {
                    r.close();
                }
            }
            ch.close();
            throw e;
        }
    }

    String blobId() {
        return info.blobId();
    }

    // ---- lifecycle

    boolean tryRetain() {
        for (;;) {
            int u = users.get();
            if (u < 0) {
                return false;
            }
            if (users.compareAndSet(u, u + 1)) {
                return true;
            }
        }
    }

    void release() {
        users.decrementAndGet();
    }

    /** Marks the blob closed when no operation holds it; afterwards {@link #tryRetain} fails. */
    boolean tryClose() {
        return users.compareAndSet(0, CLOSED);
    }

    boolean isClosed() {
        return users.get() < 0;
    }

    boolean inUse() {
        return users.get() > 0;
    }

    void touch() {
        long now = System.currentTimeMillis();
        if (now - lastAccess > 100) {
            lastAccess = now;
        }
    }

    long lastAccess() {
        return lastAccess;
    }

    long bytes() {
        return bytes.get();
    }

    /** Closes the files (after {@link #tryClose}); persists pending readiness first. */
    void closeFiles() throws IOException {
        try {
            flush();
        } finally {
            if (map != null) {
                map.close();
            }
            for (FileChannel r : readers) {
                r.close();
            }
            data.close();
        }
    }

    // ---- readiness

    /** The key of a chunk for in-flight de-duplication. */
    Object key(ChunkInfo c) {
        return map != null ? (Object) c.index() : ByteBuffer.wrap(c.digest());
    }

    /** Checks that a chunk belongs to this blob's index space; fails with a one-line message otherwise. */
    void checkChunk(ChunkInfo c) throws IOException {
        if (map != null) {
            if (c.index() < 0 || c.index() >= map.chunks()) {
                throw new IOException("blob " + blobId() + " chunk " + c.index() + ": index outside the blob ("
                        + map.chunks() + " chunks)");
            }
        } else if (c.digest() == null) {
            throw new IOException("blob " + blobId() + " chunk " + c.index()
                    + ": no digest to track it by (blob without chunk count)");
        }
        if (c.uncompressedOffset() < 0 || c.uncompressedSize() <= 0) {
            throw new IOException("blob " + blobId() + " chunk " + c.index() + ": bad uncompressed extent "
                    + c.uncompressedOffset() + "+" + c.uncompressedSize());
        }
    }

    /**
     * Whether a chunk can be read from the data file right away: ready, and (with {@code validate}) verified since
     * this process opened the blob. The hot path; no locks.
     */
    boolean servable(ChunkInfo c, boolean validate) {
        if (map == null) {
            return readyDigests.contains(ByteBuffer.wrap(c.digest()));
        }
        int i = c.index();
        if (i < 0 || i >= map.chunks()) {
            return false;
        }
        return validate ? (verified.get(i >>> 6) & (1L << (i & 63))) != 0 : map.isReady(i);
    }

    /** Ready in the bitmap (maybe not verified in this process). */
    boolean isReady(int index) {
        return map != null ? map.isReady(index) : false;
    }

    boolean isReady(ChunkInfo c) {
        return map != null ? map.isReady(c.index()) : readyDigests.contains(ByteBuffer.wrap(c.digest()));
    }

    void markVerified(int index) {
        if (verified != null) {
            long bit = 1L << (index & 63);
            verified.getAndUpdate(index >>> 6, w -> w | bit);
        }
    }

    int readyCount() {
        return map != null ? map.readyCount() : readyDigests.size();
    }

    boolean allReady() {
        return map != null && map.allReady();
    }

    int chunkCount() {
        return map != null ? map.chunks() : -1;
    }

    // ---- data file

    /**
     * Reads cached bytes of a chunk into {@code dst} straight from the data file (no copy through the heap when
     * {@code dst} is direct). Returns false when the file ends early (it was truncated behind our back).
     */
    boolean readCached(ChunkInfo c, int offsetInChunk, ByteBuffer dst) throws IOException {
        long pos = c.uncompressedOffset() + offsetInChunk;
        FileChannel ch = readers[(int) (Thread.currentThread().getId() % readers.length)];
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                return false;
            }
            pos += n;
        }
        return true;
    }

    /** The whole cached chunk, or null when the file ends early. */
    byte[] readCachedChunk(ChunkInfo c) throws IOException {
        byte[] b = new byte[c.uncompressedSize()];
        return readCached(c, 0, ByteBuffer.wrap(b)) ? b : null;
    }

    /** Forgets a chunk whose cached bytes are bad, before it is fetched again. */
    void invalidate(ChunkInfo c) {
        if (map != null) {
            map.clear(c.index());
            verified.getAndUpdate(c.index() >>> 6, w -> w & ~(1L << (c.index() & 63)));
        } else {
            readyDigests.remove(ByteBuffer.wrap(c.digest()));
        }
    }

    /**
     * Writes a chunk's verified bytes and then marks it ready. A chunk that was ready before (its cached bytes
     * failed verification) is first cleared on disk, so no crash pairs the bit with half-written bytes.
     *
     * @param digestChecked whether the bytes were compared with a digest (then they count as verified this run)
     */
    void store(ChunkInfo c, byte[] bytesIn, int off, boolean digestChecked) throws IOException {
        if (isReady(c)) {
            invalidate(c);
        }
        ByteBuffer src = ByteBuffer.wrap(bytesIn, off, c.uncompressedSize());
        long pos = c.uncompressedOffset();
        while (src.hasRemaining()) {
            pos += data.write(src, pos);
        }
        if (map != null) {
            map.markReady(c.index());
            if (digestChecked) {
                markVerified(c.index());
            }
        } else {
            readyDigests.add(ByteBuffer.wrap(c.digest().clone()));
        }
        long end = c.uncompressedOffset() + c.uncompressedSize();
        long prev = dataEnd.getAndAccumulate(end, Math::max);
        if (end > prev) {
            grow(end - prev);
        }
    }

    private void grow(long delta) {
        bytes.addAndGet(delta);
        onGrow.accept(delta);
    }

    /**
     * Makes readiness durable: syncs the data file, then writes the bits of the chunks it covers into the bitmap
     * (see {@link ChunkMap} for why in this order).
     */
    void flush() throws IOException {
        if (map == null) {
            return;
        }
        synchronized (flushLock) {
            if (!map.hasPending()) {
                return;
            }
            BitSet p = map.takePending();
            try {
                data.force(false);
            } catch (IOException | RuntimeException e) {
                map.unpersisted(p);
                throw e;
            }
            map.persist(p);
        }
    }

    boolean hasPendingReadiness() {
        return map != null && map.hasPending();
    }

    // ---- metadata: ci table and chunk digests

    /** Whether the blob carries a ci table (v6 blobs) to resolve chunks and find their neighbours. */
    boolean hasCiTable() {
        return map != null && info.ciCompressedSize() > 0 && info.ciUncompressedSize() > 0;
    }

    /**
     * The blob's ci table: from {@code <blob>.blob.meta}, or fetched from the blob at {@code ci_offset} on first use
     * and then written to that file.
     */
    CiTable ciTable(BlobBackend backend, ReadPriority priority) throws IOException {
        CiTable t = ciTable;
        if (t != null) {
            return t;
        }
        synchronized (loadLock) {
            if (ciTable != null) {
                return ciTable;
            }
            if (!hasCiTable()) {
                throw new IOException("blob " + blobId() + ": no ci table (ci_offset " + info.ciOffset()
                        + ", sizes " + info.ciCompressedSize() + "/" + info.ciUncompressedSize() + ")");
            }
            BlobMeta meta = null;
            byte[] cached = BlobCacheFiles.readIfExists(files.meta(), MAX_META_FILE);
            if (cached != null) {
                try {
                    BlobMeta m = BlobMeta.fromCacheFile(cached);
                    if (m.header().entries() == info.chunkCount()
                            && m.header().ciUncompressedSize() == info.ciUncompressedSize()) {
                        meta = m;
                    }
                } catch (RafsFormatException e) {
                    // A damaged cache file: fetch the table again below.
                }
            }
            if (meta == null) {
                try {
                    meta = BlobMeta.fromBlob(new BackendBlobReader(backend, blobId(), info.compressedSize(),
                            priority), info);
                } catch (RafsFormatException e) {
                    throw new IOException("blob " + blobId() + ": ci table at offset " + info.ciOffset() + ": "
                            + e.getMessage(), e);
                }
                writeCacheFile(files.meta(), meta.toCacheFile());
            }
            try {
                ciTable = meta.table(info.index());
            } catch (RafsFormatException e) {
                throw new IOException("blob " + blobId() + ": ci table: " + e.getMessage(), e);
            }
            return ciTable;
        }
    }

    /** Replaces a small cache file whole, accounting for the change in size. */
    private void writeCacheFile(java.nio.file.Path p, byte[] content) throws IOException {
        long old = Files.exists(p) ? Files.size(p) : 0;
        BlobCacheFiles.writeAtomically(p, content);
        grow(content.length - old);
    }

    /** The ci table entry of chunk {@code i}, with any failure as an IOException naming the blob and chunk. */
    ChunkInfo ciEntry(CiTable t, int i) throws IOException {
        try {
            return t.chunk(i);
        } catch (RafsFormatException e) {
            throw new IOException("blob " + blobId() + " chunk " + i + ": " + e.getMessage(), e);
        }
    }

    /**
     * The digest of chunk {@code i} from the blob's digest array ({@code blob.digest} section, cached as
     * {@code <blob>.blob.digest}), or null when the blob has none.
     */
    byte[] digestAt(int i, BlobBackend backend, ReadPriority priority) throws IOException {
        byte[] all = digests(backend, priority);
        if (all == null || (long) (i + 1) * Digester.DIGEST_SIZE > all.length) {
            return null;
        }
        return Arrays.copyOfRange(all, i * Digester.DIGEST_SIZE, (i + 1) * Digester.DIGEST_SIZE);
    }

    /** Whether chunk digests can come from the digest array (without loading it). */
    boolean mayHaveDigestArray() {
        return map != null && info.hasFeature(BlobFeatures.INLINED_CHUNK_DIGEST) && !digestsAbsent;
    }

    private byte[] digests(BlobBackend backend, ReadPriority priority) throws IOException {
        byte[] d = digests;
        if (d != null || !mayHaveDigestArray()) {
            return d;
        }
        synchronized (loadLock) {
            if (digests != null || digestsAbsent) {
                return digests;
            }
            long expected = (long) info.chunkCount() * Digester.DIGEST_SIZE;
            byte[] cached = BlobCacheFiles.readIfExists(files.digest(), expected);
            if (cached != null && cached.length == expected) {
                digests = cached;
                return cached;
            }
            BackendBlobReader reader = new BackendBlobReader(backend, blobId(), info.compressedSize(), priority);
            try {
                BlobSections sections = BlobSections.read(reader);
                BlobSections.Section s = sections.find(TarHeader.BLOB_DIGEST);
                if (s == null) {
                    digestsAbsent = true;
                    return null;
                }
                byte[] raw = sections.rawToc();
                byte[] tocDigest = info.tocDigest();
                if (raw != null && !Arrays.equals(tocDigest, new byte[32])
                        && !Arrays.equals(tocDigest, Digester.sha256().digest(raw))) {
                    throw new IOException("blob " + blobId() + ": TOC sha256 does not match the blob table ("
                            + HexFormat.of().formatHex(tocDigest) + ")");
                }
                byte[] all = sections.load(reader, s, expected);
                if (all.length != expected) {
                    throw new IOException("blob " + blobId() + ": blob.digest section at offset " + s.offset()
                            + " has " + all.length + " bytes, expected " + expected);
                }
                if (raw != null) {
                    writeCacheFile(files.toc(), raw);
                }
                writeCacheFile(files.digest(), all);
                digests = all;
                return all;
            } catch (RafsFormatException e) {
                throw new IOException("blob " + blobId() + ": chunk digest array: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "cached blob " + blobId();
    }
}
