package io.nydus.blobcache.cache;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.blob.CiTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;

/**
 * The chunk source of a mounted image with a local cache ({@code blobcache} / {@code filecache}): chunks are read
 * from {@code <blob>.blob.data} in the work dir once ready, and fetched from the backend, decompressed, verified
 * and written there when not.
 *
 * <p>Read path: a cached chunk is read with one positional {@code FileChannel.read} straight into the caller's
 * buffer (no heap copy for a direct buffer), after a lock-free readiness check. A missing chunk is claimed in the
 * blob's {@link InflightFetches}; the claimant fetches it together with the following missing chunks of the blob
 * (v6 blobs, by the ci table) up to {@code amplify_io} bytes in one backend request, while other readers of those
 * chunks wait for it. v6 chunks that the bootstrap's chunk table does not list are resolved through the blob's ci
 * table, fetched from the blob on first use and cached as {@code <blob>.blob.meta}; their digests come from the
 * blob's digest array ({@code <blob>.blob.digest}) when it has one.
 *
 * <p>Verification: fetched chunks are checked against their digest (when one is known) before they are written and
 * marked ready; a mismatch is fetched once more, then fails the read. With {@code validate}, a cached chunk is also
 * re-checked at its first use after every start, so a cache file altered on disk is detected and fetched again.
 * Decompression and CRC32C (when recorded) are checked always.
 *
 * <p>Chunks are decompressed with their blob's compressor and digested with its digester (as
 * {@code DirectChunkSource} does).
 */
public final class CachedChunkSource implements ChunkSource {
    private static final byte[] ZEROS = new byte[64 << 10];

    private final List<BlobInfo> blobs;
    private final BlobBackend backend;
    private final CacheConfig config;
    private final boolean validate;
    private final long amplifyIo;
    private final CacheSpace space;
    private final ChunkFetcher fetcher;
    private final AtomicReferenceArray<CachedBlob> slots;
    private final Object[] slotLocks;
    private final PrefetchGate gate = new PrefetchGate();
    private final PrefetchWorkers prefetch;
    private final BlobCacheMetrics metrics;
    private volatile boolean closed;

    /**
     * Opens the cache of one image.
     *
     * @param blobs the image's blob table (chunks refer to blobs by index in it)
     * @throws IllegalArgumentException for a config this cache cannot serve (no work dir, {@code compressed=true})
     */
    public CachedChunkSource(List<BlobInfo> blobs, BlobBackend backend, CacheConfig config) throws IOException {
        if (!config.isLocalCache()) {
            throw new IllegalArgumentException("cache type '" + config.type()
                    + "' is not a local chunk cache (expected blobcache or filecache)");
        }
        if (config.workDir() == null) {
            throw new IllegalArgumentException("cache type '" + config.type() + "' needs config.work_dir");
        }
        if (config.compressed()) {
            throw new IllegalArgumentException("cache.compressed=true (caching compressed chunks in <blob>.blob.raw)"
                    + " is not supported; set it to false");
        }
        this.blobs = List.copyOf(blobs);
        this.backend = backend;
        this.config = config;
        this.validate = config.validate();
        this.amplifyIo = Math.max(0, config.amplifyIo());
        this.space = CacheSpace.forDir(config.workDir());
        if (config.sizeLimit() > 0) {
            space.setSizeLimit(config.sizeLimit());
        }
        this.fetcher = new ChunkFetcher(backend);
        this.slots = new AtomicReferenceArray<>(this.blobs.size());
        this.slotLocks = new Object[this.blobs.size()];
        for (int i = 0; i < slotLocks.length; i++) {
            slotLocks[i] = new Object();
        }
        PrefetchConfig pc = config.prefetch() != null ? config.prefetch() : PrefetchConfig.DISABLED;
        this.metrics = new BlobCacheMetrics(space.dir().toString(), pc.enable() ? pc.threads() : 0, new Gauges());
        this.prefetch = new PrefetchWorkers(this, pc.threads(), pc.mergingSize(), pc.bandwidthRate(), gate, metrics);
    }

    public CacheConfig config() {
        return config;
    }

    /** The work dir this image's cache lives in (shared with other images using the same directory). */
    public CacheSpace space() {
        return space;
    }

    public BlobCacheMetrics metrics() {
        return metrics;
    }

    @Override
    public Map<String, Object> cacheMetrics() {
        return metrics.toMap();
    }

    /**
     * Deletes the cache files of one blob ({@code DELETE /api/v2/blobs?blob_id=}). If this image uses the blob, its
     * chunks are fetched again when next read. Fails when the blob is being read right now.
     */
    public void deleteBlobCache(String blobId) throws IOException {
        space.delete(blobId);
    }

    // ---- read path

    @Override
    public void read(ChunkInfo chunk, int offsetInChunk, ByteBuffer dst, ReadPriority priority) throws IOException {
        int len = dst.remaining();
        if (len == 0) {
            return;
        }
        if (offsetInChunk < 0 || (long) offsetInChunk + len > chunk.uncompressedSize()) {
            String blob = chunk.blobIndex() >= 0 && chunk.blobIndex() < blobs.size()
                    ? blobs.get(chunk.blobIndex()).blobId() : "index " + chunk.blobIndex();
            throw new IOException("blob " + blob + " chunk " + chunk.index() + ": " + len + " bytes at offset "
                    + offsetInChunk + " outside the chunk (" + chunk.uncompressedSize() + " bytes)");
        }
        if (chunk.isHole()) {
            while (dst.hasRemaining()) {
                dst.put(ZEROS, 0, Math.min(ZEROS.length, dst.remaining()));
            }
            return;
        }
        CachedBlob b = acquire(chunk.blobIndex());
        try {
            metrics.total.increment();
            int start = dst.position();
            if (b.servable(chunk, validate)) {
                if (b.readCached(chunk, offsetInChunk, dst)) {
                    metrics.wholeHits.increment();
                    return;
                }
                // The data file is shorter than the bitmap says: someone truncated it. Fetch again.
                dst.position(start);
                b.invalidate(chunk);
            }
            boolean fetched = ensureServable(b, chunk, priority);
            (fetched ? metrics.misses : metrics.partialHits).increment();
            if (!b.readCached(chunk, offsetInChunk, dst)) {
                throw new IOException("blob " + b.blobId() + " chunk " + chunk.index() + ": cache file "
                        + b.files.data() + " ends before offset " + (chunk.uncompressedOffset() + offsetInChunk
                        + len));
            }
        } finally {
            b.release();
        }
    }

    private CachedBlob acquire(int blobIndex) throws IOException {
        if (blobIndex < 0 || blobIndex >= blobs.size()) {
            throw new IOException("chunk refers to blob index " + blobIndex + " of " + blobs.size());
        }
        CachedBlob b = slots.get(blobIndex);
        if (b == null || !b.tryRetain()) {
            b = reopen(blobIndex);
        }
        b.touch();
        return b;
    }

    /** Opens the blob for this image, or again after it was evicted or deleted; returns it retained. */
    private CachedBlob reopen(int blobIndex) throws IOException {
        synchronized (slotLocks[blobIndex]) {
            for (;;) {
                CachedBlob b = slots.get(blobIndex);
                if (b != null && b.tryRetain()) {
                    return b;
                }
                if (closed) {
                    throw new IOException("blob " + blobs.get(blobIndex).blobId() + ": chunk source is closed");
                }
                CachedBlob nb = space.open(blobs.get(blobIndex));
                slots.set(blobIndex, nb);
                if (nb.tryRetain()) {
                    return nb;
                }
            }
        }
    }

    /**
     * Makes a chunk servable: waits for another reader's fetch of it, or claims it and verifies the cached bytes
     * or fetches it. Returns true when this call fetched from the backend.
     */
    private boolean ensureServable(CachedBlob b, ChunkInfo c, ReadPriority priority) throws IOException {
        b.checkChunk(c);
        boolean onDemand = priority == ReadPriority.ON_DEMAND;
        if (onDemand) {
            gate.enterOnDemand();
        }
        try {
            boolean retriedAfterPrefetch = false;
            for (int round = 0; round < 16; round++) {
                if (b.servable(c, validate)) {
                    return false;
                }
                Object key = b.key(c);
                InflightFetches.Fetch mine = b.inflight.claim(key, priority);
                if (mine != null) {
                    return lead(b, c, mine, priority);
                }
                InflightFetches.Fetch other = b.inflight.get(key);
                if (other == null) {
                    continue;
                }
                try {
                    other.await();
                } catch (IOException e) {
                    // A failed prefetch does not fail a reader: it tries once itself.
                    if (other.priority == ReadPriority.PREFETCH && onDemand && !retriedAfterPrefetch) {
                        retriedAfterPrefetch = true;
                        continue;
                    }
                    throw e;
                }
            }
            throw new IOException("blob " + b.blobId() + " chunk " + c.index() + ": not cached after 16 rounds");
        } finally {
            if (onDemand) {
                gate.exitOnDemand();
            }
        }
    }

    /** The claimant's work: verify the cached bytes, or fetch (with neighbours) and store. */
    private boolean lead(CachedBlob b, ChunkInfo c, InflightFetches.Fetch mine, ReadPriority priority)
            throws IOException {
        try {
            if (b.servable(c, validate)) {
                b.inflight.complete(mine);
                return false;
            }
            byte[] digest = digestOf(b, c, priority);
            if (b.isReady(c)) {
                // Ready on disk but not verified since this start (validate), or the file was truncated.
                byte[] cached = b.readCachedChunk(c);
                if (cached != null
                        && fetcher.check(b, withDigest(c, digest), cached, 0) != ChunkFetcher.Check.MISMATCH) {
                    b.markVerified(c.index());
                    b.inflight.complete(mine);
                    return false;
                }
                metrics.verifyFailures.increment();
                b.invalidate(c);
            }
            ChunkInfo r = resolve(b, c, digest, priority);
            List<ChunkFetcher.Claim> run = new ArrayList<>();
            run.add(new ChunkFetcher.Claim(r, mine));
            if (b.hasCiTable()) {
                amplify(b, r, run, priority == ReadPriority.ON_DEMAND ? amplifyIo : prefetch.mergingSize(),
                        priority);
            }
            fetcher.fetchRun(b, run, priority);
            mine.await();
            return true;
        } catch (IOException | RuntimeException e) {
            if (!mine.isDone()) {
                b.inflight.fail(mine, e instanceof IOException io ? io : new IOException(e.toString(), e));
            }
            throw e;
        }
    }

    /** The digest of a chunk: from the bootstrap, else from the blob's digest array, else null. */
    private byte[] digestOf(CachedBlob b, ChunkInfo c, ReadPriority priority) throws IOException {
        if (c.digest() != null) {
            return c.digest();
        }
        return b.mayHaveDigestArray() ? b.digestAt(c.index(), backend, priority) : null;
    }

    private static ChunkInfo withDigest(ChunkInfo c, byte[] digest) {
        if (digest == null || c.digest() != null) {
            return c;
        }
        return new ChunkInfo(digest, c.blobIndex(), c.flags(), c.compressedOffset(), c.compressedSize(),
                c.uncompressedOffset(), c.uncompressedSize(), c.fileOffset(), c.index(), c.crc32());
    }

    /** The chunk with its compressed extent (through the ci table when the bootstrap has none) and digest. */
    private ChunkInfo resolve(CachedBlob b, ChunkInfo c, byte[] digest, ReadPriority priority) throws IOException {
        ChunkInfo r = c;
        if (!c.isResolved()) {
            if (!b.hasCiTable()) {
                throw new IOException("blob " + b.blobId() + " chunk " + c.index()
                        + ": not in the bootstrap's chunk table and the blob has no ci table");
            }
            ChunkInfo e = b.ciEntry(b.ciTable(backend, priority), c.index());
            if (e.uncompressedOffset() != c.uncompressedOffset() || e.uncompressedSize() != c.uncompressedSize()) {
                throw new IOException("blob " + b.blobId() + " chunk " + c.index() + ": bootstrap says "
                        + c.uncompressedOffset() + "+" + c.uncompressedSize() + ", ci table says "
                        + e.uncompressedOffset() + "+" + e.uncompressedSize());
            }
            r = c.resolvedBy(e);
        }
        if (r.compressedSize() <= 0 || r.compressedOffset() < 0) {
            throw new IOException("blob " + b.blobId() + " chunk " + c.index() + ": bad compressed extent "
                    + r.compressedOffset() + "+" + r.compressedSize());
        }
        return withDigest(r, digest);
    }

    /**
     * Claims the missing chunks that follow {@code first} in the blob, while they are adjacent and the request
     * stays within {@code limit} bytes. Never throws: a problem just ends the run.
     */
    private void amplify(CachedBlob b, ChunkInfo first, List<ChunkFetcher.Claim> run, long limit,
            ReadPriority priority) {
        try {
            CiTable t = b.ciTable(backend, priority);
            long start = first.compressedOffset();
            long end = start + first.compressedSize();
            for (int j = first.index() + 1; j < b.chunkCount(); j++) {
                if (b.isReady(j)) {
                    return;
                }
                ChunkInfo e = b.ciEntry(t, j);
                if (e.compressedOffset() != end || e.compressedOffset() + e.compressedSize() - start > limit) {
                    return;
                }
                byte[] d = b.mayHaveDigestArray() ? b.digestAt(j, backend, priority) : null;
                int index = j;
                InflightFetches.Fetch f = claimMissing(b, j, () -> b.isReady(index), priority);
                if (f == null) {
                    return;
                }
                run.add(new ChunkFetcher.Claim(withDigest(e, d), f));
                end = e.compressedOffset() + e.compressedSize();
            }
        } catch (IOException | RuntimeException e) {
            // No neighbours then; the requested chunk is fetched alone.
        }
    }

    /**
     * Claims a chunk for fetching; null when another reader holds it, or when it turned out {@code ready} once
     * claimed (the claim is then released).
     */
    private static InflightFetches.Fetch claimMissing(CachedBlob b, Object key, BooleanSupplier ready,
            ReadPriority priority) {
        InflightFetches.Fetch f = b.inflight.claim(key, priority);
        if (f != null && ready.getAsBoolean()) {
            b.inflight.complete(f);
            return null;
        }
        return f;
    }

    // ---- prefetch

    /**
     * Fetches chunks in the background (when {@code prefetch.enable}); returns at once. On-demand reads go first:
     * workers start no backend request while a read waits for the backend.
     */
    @Override
    public void prefetch(List<ChunkInfo> chunks) {
        PrefetchConfig pc = config.prefetch();
        if (pc == null || !pc.enable() || closed) {
            return;
        }
        prefetch.submit(chunks);
    }

    @Override
    public boolean awaitPrefetch(long timeout, TimeUnit unit) throws InterruptedException {
        return prefetch.await(timeout, unit);
    }

    /** Prefetch step 1: drop cached and duplicate chunks, resolve, sort by offset, cut into merged batches. */
    List<List<ChunkInfo>> planPrefetch(int blobIndex, List<ChunkInfo> chunks, long mergingSize) throws IOException {
        CachedBlob b = acquire(blobIndex);
        try {
            Map<Object, ChunkInfo> unique = new LinkedHashMap<>();
            for (ChunkInfo c : chunks) {
                b.checkChunk(c);
                if (!b.isReady(c)) {
                    unique.putIfAbsent(b.key(c), c);
                }
            }
            List<ChunkInfo> resolved = new ArrayList<>(unique.size());
            for (ChunkInfo c : unique.values()) {
                resolved.add(resolve(b, c, digestOf(b, c, ReadPriority.PREFETCH), ReadPriority.PREFETCH));
            }
            resolved.sort(Comparator.comparingLong(ChunkInfo::compressedOffset));
            List<List<ChunkInfo>> batches = new ArrayList<>();
            List<ChunkInfo> cur = null;
            long start = 0;
            long end = 0;
            for (ChunkInfo c : resolved) {
                long cEnd = c.compressedOffset() + c.compressedSize();
                boolean joins = cur != null && c.compressedOffset() >= end
                        && c.compressedOffset() - end <= ChunkFetcher.MAX_GAP && cEnd - start <= mergingSize;
                if (!joins) {
                    cur = new ArrayList<>();
                    batches.add(cur);
                    start = c.compressedOffset();
                }
                cur.add(c);
                end = cEnd;
            }
            return batches;
        } finally {
            b.release();
        }
    }

    /**
     * Prefetch step 2: fetch one batch, skipping chunks cached or claimed meanwhile; returns chunks that failed.
     *
     * <p>The worker waits (for on-demand reads, for bandwidth) before it claims anything, and does not wait once it
     * holds claims: a reader waiting for a claimed chunk keeps the gate closed, so a worker that waited at the gate
     * while holding a claim would wait for itself.
     */
    int prefetchBatch(int blobIndex, List<ChunkInfo> batch, PrefetchWorkers workers) throws IOException {
        CachedBlob b = acquire(blobIndex);
        try {
            List<ChunkInfo> todo = new ArrayList<>(batch.size());
            for (ChunkInfo c : batch) {
                if (!b.isReady(c)) {
                    todo.add(c);
                }
            }
            if (todo.isEmpty()) {
                return 0;
            }
            ChunkInfo first = todo.get(0);
            ChunkInfo last = todo.get(todo.size() - 1);
            workers.beforeRequest(last.compressedOffset() + last.compressedSize() - first.compressedOffset());
            int failed = 0;
            List<ChunkFetcher.Claim> run = new ArrayList<>();
            for (ChunkInfo c : todo) {
                InflightFetches.Fetch f = b.isReady(c) ? null
                        : claimMissing(b, b.key(c), () -> b.isReady(c), ReadPriority.PREFETCH);
                if (f == null) {
                    failed += fetchPrefetchRun(b, run, workers);
                    continue;
                }
                run.add(new ChunkFetcher.Claim(c, f));
            }
            failed += fetchPrefetchRun(b, run, workers);
            return failed;
        } finally {
            b.release();
        }
    }

    private int fetchPrefetchRun(CachedBlob b, List<ChunkFetcher.Claim> run, PrefetchWorkers workers) {
        if (run.isEmpty()) {
            return 0;
        }
        List<ChunkFetcher.Claim> claims = List.copyOf(run);
        run.clear();
        long read = fetcher.fetchRun(b, claims, ReadPriority.PREFETCH);
        if (read > 0) {
            workers.afterRequest(read);
        }
        int failed = 0;
        for (ChunkFetcher.Claim c : claims) {
            if (!b.isReady(c.chunk())) {
                failed++;
            }
        }
        return failed;
    }

    // ---- lifecycle and gauges

    /** Makes the readiness of every chunk cached so far durable (also done in the background every second). */
    public void flush() {
        space.flushAll();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        prefetch.shutdown();
        for (int i = 0; i < slots.length(); i++) {
            synchronized (slotLocks[i]) {
                CachedBlob b = slots.getAndSet(i, null);
                if (b != null) {
                    if (b.tryRetain()) {
                        try {
                            b.flush();
                        } finally {
                            b.release();
                        }
                    }
                    space.release(b);
                }
            }
        }
        backend.close();
    }

    private final class Gauges implements BlobCacheMetrics.Gauges {
        @Override
        public long entriesCount() {
            long n = 0;
            for (int i = 0; i < slots.length(); i++) {
                CachedBlob b = slots.get(i);
                if (b != null && !b.isClosed()) {
                    n += b.readyCount();
                }
            }
            return n;
        }

        @Override
        public List<String> underlyingFiles() {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < slots.length(); i++) {
                CachedBlob b = slots.get(i);
                if (b != null && !b.isClosed()) {
                    out.add(b.files.data().toString());
                    if (Files.exists(b.files.chunkMap())) {
                        out.add(b.files.chunkMap().toString());
                    }
                }
            }
            return out;
        }

        @Override
        public boolean dataAllReady() {
            for (int i = 0; i < slots.length(); i++) {
                CachedBlob b = slots.get(i);
                if (b == null || b.isClosed() || !b.allReady()) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public long prefetchPending() {
            return prefetch.pending();
        }
    }
}
