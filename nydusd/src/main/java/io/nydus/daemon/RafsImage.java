package io.nydus.daemon;

import com.sun.security.auth.module.UnixSystem;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.ChunkSources;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.SuperFlags;
import io.nydus.rafs.Xattrs;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One RAFS image ready to serve: the memory-mapped bootstrap, the chunk source behind it, its settings and
 * its statistics. Everything the FUSE adapter asks is answered from the bootstrap on demand; nothing per inode
 * is kept.
 */
public final class RafsImage implements Closeable {
    /** {@code st_blksize} reported for every file (upstream RAFS_ATTR_BLOCK_SIZE). */
    public static final int BLOCK_SIZE = 4096;
    /** Owner reported for images built without explicit uid/gid (upstream: the daemon's own). */
    private static final UnixSystem DAEMON_USER = new UnixSystem();
    /** Source of the zeros written for holes. */
    private static final byte[] ZEROS = new byte[64 << 10];

    private final String mountpoint;
    private final Path bootstrap;
    private final NydusdConfig config;
    private final RafsSuper sb;
    private final BlobBackend backend;
    private final ChunkSource chunks;
    private final FsMetrics metrics;
    private final boolean xattr;
    private final boolean explicitUidGid;
    private final long uid;
    private final long gid;
    private final long startSecs;
    private final long rootIno;
    /** Bytes statfs reports: every data blob uncompressed plus the bootstrap (fixed once open). */
    private final long totalBytes;
    private final Instant mountedTime = Instant.now();
    private final Prefetcher prefetcher;
    /** High bits added to every inode number this image reports (0 for the image at the root). */
    private volatile long inoBase;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RafsImage(String mountpoint, Path bootstrap, NydusdConfig config, RafsSuper sb, BlobBackend backend,
            ChunkSource chunks, List<String> prefetchFiles) {
        this.mountpoint = mountpoint;
        this.bootstrap = bootstrap;
        this.config = config;
        this.sb = sb;
        this.backend = backend;
        this.chunks = chunks;
        this.metrics = new FsMetrics(mountpoint, config.iostatsFiles(), config.accessPattern(), config.latestReadFiles());
        // The image decides: one with xattrs serves them (even with enable_xattr off: hiding stored attributes would
        // change what programs see), one without answers "not supported", after which the kernel stops asking for
        // every entry; that cuts the FUSE requests of an `ls -l` walk by about two thirds.
        this.xattr = (sb.flags() & SuperFlags.HAS_XATTR) != 0;
        this.explicitUidGid = sb.explicitUidGid();
        this.uid = DAEMON_USER.getUid();
        this.gid = DAEMON_USER.getGid();
        this.startSecs = System.currentTimeMillis() / 1000;
        this.rootIno = sb.rootIno();
        long n = sb.bootstrapSize();
        for (var b : sb.blobs()) {
            n += b.uncompressedSize();
        }
        this.totalBytes = n;
        this.prefetcher = new Prefetcher(this, prefetchFiles);
    }

    /**
     * Opens the bootstrap and the data path. Failures are one-line {@link IOException}s or
     * {@link ConfigException}s naming the file or the key; nothing is left open on failure.
     */
    public static RafsImage open(String mountpoint, Path bootstrap, NydusdConfig config, List<String> prefetchFiles,
            List<String> warnings) throws IOException {
        RafsSuper sb;
        try {
            sb = RafsSuper.open(bootstrap);
        } catch (NoSuchFileException e) {
            throw new IOException(bootstrap + ": no such bootstrap file");
        } catch (RafsFormatException e) {
            throw new IOException(e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException(bootstrap + ": cannot read bootstrap: " + e.getMessage(), e);
        }
        BlobBackend backend = config.createBackend(warnings);
        ChunkSource source;
        try {
            source = ChunkSources.open(sb.blobs(), backend, config.cacheConfig());
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend);
            throw new IOException("cannot open the chunk cache: " + e.getMessage(), e);
        }
        return new RafsImage(mountpoint, bootstrap, config, sb, backend, source, prefetchFiles);
    }

    /** An image over an already opened bootstrap and chunk source (tests substitute the source). */
    static RafsImage of(String mountpoint, Path bootstrap, NydusdConfig config, RafsSuper sb, BlobBackend backend,
            ChunkSource chunks, List<String> prefetchFiles) {
        return new RafsImage(mountpoint, bootstrap, config, sb, backend, chunks, prefetchFiles);
    }

    Prefetcher prefetcher() {
        return prefetcher;
    }

    public String mountpoint() {
        return mountpoint;
    }

    /** The image's id in the API's metrics: its configuration id, or its mountpoint when that is empty. */
    public String id() {
        return config.id().isEmpty() ? mountpoint : config.id();
    }

    public Path bootstrap() {
        return bootstrap;
    }

    public NydusdConfig config() {
        return config;
    }

    public RafsSuper superblock() {
        return sb;
    }

    public BlobBackend backend() {
        return backend;
    }

    public ChunkSource chunks() {
        return chunks;
    }

    public FsMetrics metrics() {
        return metrics;
    }

    public Instant mountedTime() {
        return mountedTime;
    }

    public long rootIno() {
        return rootIno;
    }

    public boolean xattrSupported() {
        return xattr;
    }

    long inoBase() {
        return inoBase;
    }

    void setInoBase(long base) {
        this.inoBase = base;
    }

    /** Starts the background prefetch the configuration asks for (no-op when disabled). */
    public void startPrefetch() {
        prefetcher.start();
    }

    /** Attributes as a mount reports them: owner, times and root permissions adjusted as upstream does. */
    public Inode attributes(long ino) {
        return sb.inode(ino);
    }

    /** {@code st_mode}: the root directory is always 0755 (upstream works around images whose root is 0750). */
    public int reportedMode(Inode in) {
        return in.ino() == rootIno ? (in.mode() & ~0777) | 0755 : in.mode();
    }

    public long reportedUid(Inode in) {
        return explicitUidGid ? in.uid() : uid;
    }

    public long reportedGid(Inode in) {
        return explicitUidGid ? in.gid() : gid;
    }

    /** mtime seconds; images without times (0) report the daemon's start time, as upstream. */
    public long reportedMtime(Inode in) {
        return in.mtime() == 0 && in.mtimeNsec() == 0 ? startSecs : in.mtime();
    }

    public long reportedIno(long ino) {
        return inoBase | ino;
    }

    /**
     * Reads file bytes at {@code offset} into {@code dst} (its remaining bytes, which the caller bounded by
     * the file size), chunk by chunk, straight from the chunk source into the buffer.
     */
    public void read(long ino, long offset, ByteBuffer dst) throws IOException {
        int chunkSize = sb.chunkSize();
        long pos = offset;
        while (dst.hasRemaining()) {
            int index = (int) (pos / chunkSize);
            ChunkInfo c = sb.chunk(ino, index);
            int inChunk = (int) (pos - c.fileOffset());
            int len = Math.min(c.uncompressedSize() - inChunk, dst.remaining());
            if (len <= 0) {
                throw new IOException("inode " + ino + ": chunk " + index + " does not cover offset " + pos);
            }
            int limit = dst.limit();
            int start = dst.position();
            dst.limit(start + len);
            if (c.isHole()) {
                while (dst.hasRemaining()) {
                    dst.put(ZEROS, 0, Math.min(ZEROS.length, dst.remaining()));
                }
            } else {
                chunks.read(c, inChunk, dst, ReadPriority.ON_DEMAND);
            }
            if (dst.position() != start + len) {
                throw new IOException("inode " + ino + ": chunk source returned " + (dst.position() - start)
                        + " bytes of " + len);
            }
            dst.limit(limit);
            pos += len;
        }
    }

    /** A path of each of {@code inos} that the image has (the first in walk order for a hard link). */
    public Map<Long, String> pathsOf(Set<Long> inos) {
        Map<Long, String> out = new HashMap<>();
        if (inos.isEmpty()) {
            return out;
        }
        try {
            sb.walk(e -> {
                if (inos.contains(e.ino())) {
                    out.putIfAbsent(e.ino(), e.path());
                }
            });
        } catch (IOException | RuntimeException e) {
            NydusdLog.debug("paths of %s: %s", mountpoint, e);
        }
        return out;
    }

    /** Extended attributes, or an empty set when the inode has none. */
    public Xattrs xattrs(long ino) {
        return sb.xattrs(ino);
    }

    public byte[] readlink(long ino) {
        return sb.readlink(ino);
    }

    /** The chunk cache's own figures (upstream's blobcache metrics), empty for a source without a cache. */
    public Map<String, Object> cacheMetrics() {
        return chunks.cacheMetrics();
    }

    /** Total bytes of all data blobs once uncompressed plus the bootstrap's (statfs). */
    public long totalBytes() {
        return totalBytes;
    }

    /**
     * Loads what the first read needs (the decompressor's native library, the digest classes) so that it does
     * not pay for it.
     */
    public void warmDataPath() {
        byte[] sample = new byte[RafsImage.BLOCK_SIZE];
        for (var blob : sb.blobs()) {
            byte[] z = blob.compressor().compress(sample, 0, sample.length);
            if (z != null) {
                blob.compressor().decompress(z, sample.length);
            }
            blob.digester().digest(sample);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        prefetcher.stop();
        closeQuietly(chunks);
        closeQuietly(backend);
        sb.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            NydusdLog.debug("close: %s", e.getMessage());
        }
    }
}
