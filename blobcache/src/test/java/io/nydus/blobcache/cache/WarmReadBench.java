package io.nydus.blobcache.cache;

import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.LocalFsBackend;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Warm-cache read throughput: a blob of {@code SIZE_MB} MiB (1 MiB chunks) is cached through
 * {@link CachedChunkSource}, then read whole, in {@code BUF_KB} KiB requests into one direct buffer (as nydusd's
 * FUSE handler does), through the source and straight from the cache file with {@code FileChannel.read} at the same
 * positions. Both read each chunk back to back in alternating order and only their own reads are timed; prints each round and the medians. Run by
 * {@code bench/blobcache-warm.sh}. Arguments: work dir, size in MiB, request size in KiB, rounds, validate.
 */
public final class WarmReadBench {
    private WarmReadBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int sizeMb = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int bufKb = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 7;
        boolean validate = args.length > 4 && Boolean.parseBoolean(args[4]);
        int chunkSize = 1 << 20;

        Path blobs = dir.resolve("blobs");
        Files.createDirectories(blobs);
        Path tmpBlob = blobs.resolve("writing");
        List<ChunkInfo> chunks = new ArrayList<>();
        MessageDigest id = Digester.sha256();
        Random rnd = new Random(1);
        byte[] chunk = new byte[chunkSize];
        try (FileChannel out = FileChannel.open(tmpBlob, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < sizeMb; i++) {
                rnd.nextBytes(chunk);
                long off = (long) i * chunkSize;
                chunks.add(new ChunkInfo(Digester.SHA256.digest(chunk), 0, 0, off, chunkSize, off, chunkSize, off, i,
                        0));
                id.update(chunk);
                ByteBuffer b = ByteBuffer.wrap(chunk);
                while (b.hasRemaining()) {
                    out.write(b);
                }
            }
        }
        String blobId = HexFormat.of().formatHex(id.digest());
        Files.move(tmpBlob, blobs.resolve(blobId), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        long size = (long) sizeMb * chunkSize;
        BlobInfo info = BlobInfo.builder().blobId(blobId).chunkSize(chunkSize).chunkCount(sizeMb)
                .compressor(Compressor.NONE).digester(Digester.SHA256).compressedSize(size).uncompressedSize(size)
                .build();
        Path work = dir.resolve("cache");
        CacheConfig config = new CacheConfig("blobcache", work, false, validate, 1 << 20, 0,
                new PrefetchConfig(true, 2, 1 << 20, 0, false));
        ByteBuffer dst = ByteBuffer.allocateDirect(bufKb << 10);
        try (CachedChunkSource source = new CachedChunkSource(List.of(info), LocalFsBackend.ofDir(blobs), config)) {
            long t0 = System.nanoTime();
            source.prefetch(chunks);
            if (!source.awaitPrefetch(10, TimeUnit.MINUTES)) {
                throw new IOException("prefetch did not finish");
            }
            System.out.printf("filled %d MiB cache in %.2f s (prefetch, 2 workers)%n", sizeMb,
                    (System.nanoTime() - t0) / 1e9);
            Path cacheFile = new BlobCacheFiles(work, blobId).data();
            int passes = 5;
            List<Double> viaSource = new ArrayList<>();
            List<Double> viaFile = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            try (FileChannel file = FileChannel.open(cacheFile, StandardOpenOption.READ)) {
                for (int r = -2; r < rounds; r++) {
                    // Both sides read the same chunk back to back, in alternating order, and only their own reads
                    // are timed: the noise of a shared machine falls on both alike.
                    long sourceNanos = 0;
                    long fileNanos = 0;
                    for (int p = 0; p < passes; p++) {
                        for (ChunkInfo c : chunks) {
                            boolean sourceFirst = ((c.index() + p) & 1) == 0;
                            for (int side = 0; side < 2; side++) {
                                boolean viaSourceNow = (side == 0) == sourceFirst;
                                long started = System.nanoTime();
                                if (viaSourceNow) {
                                    readThroughSource(source, c, dst);
                                    sourceNanos += System.nanoTime() - started;
                                } else {
                                    readFile(file, c, dst);
                                    fileNanos += System.nanoTime() - started;
                                }
                            }
                        }
                    }
                    if (r < 0) {
                        continue; // warm-up: JIT
                    }
                    double s = size * passes / (sourceNanos / 1e9);
                    double f = size * passes / (fileNanos / 1e9);
                    viaSource.add(s);
                    viaFile.add(f);
                    ratios.add(s / f);
                    System.out.printf("round %d: CachedChunkSource %.0f MB/s, FileChannel %.0f MB/s, ratio %.2f%n",
                            r, s / 1e6, f / 1e6, s / f);
                }
            }
            System.out.printf("median of %d rounds (%d x %d MiB each, %d KiB requests, validate=%s):"
                    + " CachedChunkSource %.0f MB/s, cache file %.0f MB/s, ratio %.2f%n", rounds, passes, sizeMb,
                    bufKb, validate, median(viaSource) / 1e6, median(viaFile) / 1e6, median(ratios));
            System.out.println("metrics: " + source.cacheMetrics());
        }
    }

    private static double median(List<Double> v) {
        List<Double> sorted = new ArrayList<>(v);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void readThroughSource(CachedChunkSource s, ChunkInfo c, ByteBuffer dst) throws IOException {
        for (int off = 0; off < c.uncompressedSize(); off += dst.capacity()) {
            dst.clear().limit(Math.min(dst.capacity(), c.uncompressedSize() - off));
            s.read(c, off, dst, ReadPriority.ON_DEMAND);
        }
    }

    private static void readFile(FileChannel ch, ChunkInfo c, ByteBuffer dst) throws IOException {
        for (int off = 0; off < c.uncompressedSize(); off += dst.capacity()) {
            dst.clear().limit(Math.min(dst.capacity(), c.uncompressedSize() - off));
            long pos = c.uncompressedOffset() + off;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, pos);
                if (n < 0) {
                    throw new IOException("cache file ends at " + pos);
                }
                pos += n;
            }
        }
    }
}
