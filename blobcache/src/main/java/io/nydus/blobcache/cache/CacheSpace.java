package io.nydus.blobcache.cache;

import io.nydus.rafs.BlobInfo;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One cache {@code work_dir}: the blobs open in it (shared by every mounted image of this process that uses the
 * same directory), the space their files take, and the eviction that keeps it under {@code size_limit}.
 *
 * <p>Space is the apparent size of the cache files (for the sparse data file, the end of its last written chunk:
 * an upper bound of what the disk holds). Over the limit, whole blobs are evicted, least recently used first, among
 * those no read or fetch is using at that moment: cache files left by earlier runs and blobs of mounted images that
 * are idle. An evicted blob of a mounted image is fetched again when it is next read. If everything evictable is
 * gone the cache grows past the limit rather than fail reads.
 *
 * <p>A background thread syncs data files and persists the readiness bits of the chunks written since the last
 * sync, once a second by default ({@link ChunkMap} explains why bits wait for the sync).
 */
public final class CacheSpace {
    private static final System.Logger LOG = System.getLogger(CacheSpace.class.getName());
    private static final ConcurrentHashMap<Path, CacheSpace> SPACES = new ConcurrentHashMap<>();
    /**
     * How often readiness is made durable. Longer means fewer data-file syncs; a crash then forgets (and later
     * fetches again) at most this much recent work. System property {@code nydus.blobcache.flushMillis}.
     */
    static final long FLUSH_INTERVAL_MILLIS = Math.max(1, Long.getLong("nydus.blobcache.flushMillis", 1000));

    private final Path dir;
    private final ConcurrentHashMap<String, CachedBlob> open = new ConcurrentHashMap<>();
    /** Blobs with files here that no image has open: id → (bytes, last access in epoch millis). */
    private final Map<String, long[]> leftovers = new HashMap<>();
    private final AtomicLong usage = new AtomicLong();
    private final ReentrantLock evictLock = new ReentrantLock();
    private volatile long sizeLimit;
    private ScheduledExecutorService flusher;

    private CacheSpace(Path dir) {
        this.dir = dir;
    }

    /** The space of a work dir, shared within this process; scans the directory the first time. */
    public static CacheSpace forDir(Path workDir) throws IOException {
        Files.createDirectories(workDir);
        Path key = workDir.toRealPath();
        CacheSpace s = SPACES.get(key);
        if (s != null) {
            return s;
        }
        CacheSpace fresh = new CacheSpace(key);
        fresh.scan();
        CacheSpace prev = SPACES.putIfAbsent(key, fresh);
        return prev != null ? prev : fresh;
    }

    private void scan() throws IOException {
        Map<String, long[]> found = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (BlobCacheFiles.isStaleTemp(name)) {
                    // Left by a process that died while writing a metadata cache file.
                    Files.deleteIfExists(p);
                    continue;
                }
                String id = BlobCacheFiles.blobIdOf(name);
                if (id == null) {
                    continue;
                }
                try {
                    long size = Files.size(p);
                    long mtime = Files.getLastModifiedTime(p).toMillis();
                    long[] e = found.computeIfAbsent(id, k -> new long[2]);
                    e[0] += size;
                    e[1] = Math.max(e[1], mtime);
                } catch (NoSuchFileException e) {
                    // raced with a deletion
                }
            }
        }
        synchronized (leftovers) {
            leftovers.putAll(found);
            for (long[] e : found.values()) {
                usage.addAndGet(e[0]);
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** Bytes of cache files in the directory, as accounted (see the class comment). */
    public long usage() {
        return usage.get();
    }

    /** Sets the limit (0 = none); the last image that configures one decides. Evicts at once if over it. */
    public void setSizeLimit(long bytes) {
        sizeLimit = Math.max(0, bytes);
        grew(0);
    }

    /** Ids of the blobs whose cache files are open in this process. */
    public List<String> openBlobs() {
        return List.copyOf(open.keySet());
    }

    /**
     * The shared state of a blob, opened if needed, with one more image holding it. The caller retains it for each
     * operation and calls {@link #release} when the image goes away.
     */
    CachedBlob open(BlobInfo info) throws IOException {
        String id = info.blobId();
        BlobCacheFiles files = new BlobCacheFiles(dir, id);
        IOException[] failure = new IOException[1];
        CachedBlob b = open.compute(id, (k, v) -> {
            if (v != null && !v.isClosed()) {
                v.holders++;
                return v;
            }
            try {
                CachedBlob nb = CachedBlob.open(files, info, this::grew);
                long[] left = takeLeftover(id);
                long before = left == null ? 0 : left[0];
                usage.addAndGet(nb.bytes() - before);
                nb.holders = 1;
                return nb;
            } catch (IOException e) {
                failure[0] = e;
                return v;
            }
        });
        if (failure[0] != null) {
            throw new IOException("blob " + id + ": cannot open cache files in " + dir + ": "
                    + failure[0].getMessage(), failure[0]);
        }
        startFlusher();
        grew(0);
        return b;
    }

    /** One image no longer holds the blob; the last one closes its files (they stay in the directory). */
    void release(CachedBlob b) {
        open.computeIfPresent(b.blobId(), (k, v) -> {
            if (v != b) {
                return v;
            }
            if (--v.holders > 0) {
                return v;
            }
            if (!closeWhenIdle(v)) {
                LOG.log(System.Logger.Level.WARNING, "blob " + k + ": still in use while its last image closes");
                v.holders = 1;
                return v;
            }
            synchronized (leftovers) {
                leftovers.put(k, new long[] {v.bytes(), v.lastAccess()});
            }
            return null;
        });
    }

    /** Closes a blob, waiting a little for operations that still hold it. */
    private static boolean closeWhenIdle(CachedBlob b) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!b.tryClose()) {
            if (b.isClosed()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        try {
            b.closeFiles();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "blob " + b.blobId() + ": closing cache files: " + e.getMessage());
        }
        return true;
    }

    /**
     * Deletes every cache file of a blob ({@code DELETE /api/v2/blobs}). A blob that a mounted image holds is
     * dropped from it too and fetched again when next read; a blob being read right now is refused.
     */
    public void delete(String blobId) throws IOException {
        BlobCacheFiles files = new BlobCacheFiles(dir, blobId);
        IOException[] failure = new IOException[1];
        boolean[] deleted = new boolean[1];
        open.computeIfPresent(blobId, (k, v) -> {
            if (!v.tryClose()) {
                failure[0] = new IOException("blob " + blobId + ": cache in " + dir + " is in use, not deleted");
                return v;
            }
            failure[0] = closeAndDelete(v);
            deleted[0] = true;
            return null;
        });
        if (failure[0] != null) {
            throw failure[0];
        }
        long[] left = takeLeftover(blobId);
        if (left != null) {
            usage.addAndGet(-left[0]);
        }
        if (!deleted[0]) {
            files.deleteAll();
        }
    }

    /**
     * Closes the files of a blob that {@link CachedBlob#tryClose} closed, deletes them and gives their space back
     * (also when the deletion fails, which is returned rather than thrown).
     */
    private IOException closeAndDelete(CachedBlob v) {
        try {
            v.closeFiles();
        } catch (IOException e) {
            // deleted below anyway
        }
        IOException failure = null;
        try {
            v.files.deleteAll();
        } catch (IOException e) {
            failure = e;
        }
        usage.addAndGet(-v.bytes());
        return failure;
    }

    /** Forgets a blob as one with leftover files; returns its (bytes, last access) entry, or null. */
    private long[] takeLeftover(String id) {
        synchronized (leftovers) {
            return leftovers.remove(id);
        }
    }

    /** Accounts bytes added to cache files; evicts when over the limit. */
    void grew(long delta) {
        long now = usage.addAndGet(delta);
        long limit = sizeLimit;
        if (limit > 0 && now > limit && evictLock.tryLock()) {
            try {
                evict(limit);
            } finally {
                evictLock.unlock();
            }
        }
    }

    private record Candidate(String id, CachedBlob blob, long lastAccess) {
    }

    private void evict(long limit) {
        List<Candidate> candidates = new ArrayList<>();
        synchronized (leftovers) {
            leftovers.forEach((id, e) -> candidates.add(new Candidate(id, null, e[1])));
        }
        for (CachedBlob b : open.values()) {
            if (!b.inUse()) {
                candidates.add(new Candidate(b.blobId(), b, b.lastAccess()));
            }
        }
        candidates.sort(Comparator.comparingLong(Candidate::lastAccess));
        for (Candidate c : candidates) {
            if (usage.get() <= limit) {
                return;
            }
            try {
                if (c.blob() == null) {
                    long[] left = takeLeftover(c.id());
                    if (left != null) {
                        new BlobCacheFiles(dir, c.id()).deleteAll();
                        usage.addAndGet(-left[0]);
                    }
                } else {
                    open.computeIfPresent(c.id(), (k, v) -> {
                        if (v != c.blob() || !v.tryClose()) {
                            return v;
                        }
                        IOException failure = closeAndDelete(v);
                        if (failure != null) {
                            LOG.log(System.Logger.Level.WARNING, "evicting blob " + k + ": " + failure.getMessage());
                        }
                        return null;
                    });
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "evicting blob " + c.id() + ": " + e.getMessage());
            }
        }
    }

    private synchronized void startFlusher() {
        if (flusher != null) {
            return;
        }
        flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nydus-cache-flush " + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::flushAll, FLUSH_INTERVAL_MILLIS, FLUSH_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Makes the readiness of every chunk written so far durable (also done once a second in the background). */
    public void flushAll() {
        for (CachedBlob b : open.values()) {
            if (!b.hasPendingReadiness() || !b.tryRetain()) {
                continue;
            }
            try {
                b.flush();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "blob " + b.blobId() + ": syncing cache: " + e.getMessage());
            } finally {
                b.release();
            }
        }
    }
}
