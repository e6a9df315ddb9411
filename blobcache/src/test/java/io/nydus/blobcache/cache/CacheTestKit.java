package io.nydus.blobcache.cache;

import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.LocalFsBackend;
import io.nydus.rafs.ChunkInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/** What the cache tests share: configs, whole-chunk reads, and an independent reader of the chunk_map format. */
final class CacheTestKit {
    private CacheTestKit() {
    }

    static CacheConfig config(Path workDir, boolean validate) {
        return config(workDir, validate, 0, PrefetchConfig.DISABLED);
    }

    static CacheConfig config(Path workDir, boolean validate, long sizeLimit, PrefetchConfig prefetch) {
        return new CacheConfig("blobcache", workDir, false, validate, CacheConfig.DEFAULT_AMPLIFY_IO, sizeLimit,
                prefetch);
    }

    static PrefetchConfig prefetch(int threads, long mergingSize, long bandwidth) {
        return new PrefetchConfig(true, threads, mergingSize, bandwidth, false);
    }

    static CachedChunkSource open(SyntheticBlob blob, CountingBackend backend, CacheConfig config) throws IOException {
        return new CachedChunkSource(java.util.List.of(blob.info), backend, config);
    }

    static CountingBackend backendFor(SyntheticBlob blob) {
        return new CountingBackend(LocalFsBackend.ofDir(blob.file.getParent()));
    }

    /** A whole chunk read through a source, into a direct buffer (as nydusd's FUSE handler does) or a heap one. */
    static byte[] read(ChunkSource s, ChunkInfo c, boolean direct) throws IOException {
        return read(s, c, 0, c.uncompressedSize(), direct, ReadPriority.ON_DEMAND);
    }

    static byte[] read(ChunkSource s, ChunkInfo c, int off, int len, boolean direct, ReadPriority p)
            throws IOException {
        ByteBuffer dst = direct ? ByteBuffer.allocateDirect(len) : ByteBuffer.allocate(len);
        s.read(c, off, dst, p);
        if (dst.hasRemaining()) {
            throw new AssertionError("read left " + dst.remaining() + " bytes unfilled");
        }
        dst.flip();
        byte[] out = new byte[len];
        dst.get(out);
        return out;
    }

    /**
     * Ready bits of a chunk_map file, decoded here from the upstream format description (not with
     * {@link ChunkMap}): 4096-byte header, then bit i at byte i>>3, mask 1<<(7-(i&7)); all_ready sets every bit.
     */
    static BitSet readyBits(Path chunkMap, int chunks) throws IOException {
        BitSet out = new BitSet();
        if (!Files.exists(chunkMap)) {
            return out;
        }
        byte[] b;
        try (FileChannel ch = FileChannel.open(chunkMap, StandardOpenOption.READ)) {
            b = new byte[(int) ch.size()];
            ByteBuffer bb = ByteBuffer.wrap(b);
            while (bb.hasRemaining() && ch.read(bb) > 0) {
                // fill
            }
        }
        if (b.length != 4096 + (chunks + 7) / 8) {
            throw new AssertionError(chunkMap + ": " + b.length + " bytes, expected " + (4096 + (chunks + 7) / 8));
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getInt(0) != 0x424D4150 || h.getInt(4) != 1 || h.getInt(8) != 0x434D4150) {
            throw new AssertionError(chunkMap + ": bad header");
        }
        boolean all = h.getInt(12) == 0x4D4D4150;
        for (int i = 0; i < chunks; i++) {
            if (all || (b[4096 + (i >> 3)] & (1 << (7 - (i & 7)))) != 0) {
                out.set(i);
            }
        }
        return out;
    }

    static boolean allReadyFlag(Path chunkMap) throws IOException {
        byte[] h = new byte[16];
        try (FileChannel ch = FileChannel.open(chunkMap, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(h), 0);
        }
        return ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getInt(12) == 0x4D4D4150;
    }

    /** The bytes of a chunk in the cache data file. */
    static byte[] cachedBytes(Path dataFile, ChunkInfo c) throws IOException {
        byte[] out = new byte[c.uncompressedSize()];
        try (FileChannel ch = FileChannel.open(dataFile, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(out);
            long pos = c.uncompressedOffset();
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos);
                if (n < 0) {
                    return null;
                }
                pos += n;
            }
        }
        return out;
    }
}
