package io.nydus.blobcache.cache;

import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.LocalFsBackend;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.CiTable;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The child process of {@link CrashSafetyTest}: fills the cache of one v6 blob with prefetch workers and on-demand
 * readers, deletes it, and starts over, until it is killed. Arguments: work dir, blob dir, then the blob table
 * fields (see {@link #args}).
 */
public final class CacheFillerMain {
    private CacheFillerMain() {
    }

    static List<String> args(Path work, SyntheticBlob blob) {
        BlobInfo b = blob.info;
        return List.of(work.toString(), blob.file.getParent().toString(), b.blobId(),
                String.valueOf(b.chunkCount()), blob.compressor.cliName(), blob.digester.cliName(),
                String.valueOf(b.features()), String.valueOf(b.compressedSize()), String.valueOf(b.uncompressedSize()),
                b.ciCompressor().cliName(), String.valueOf(b.ciOffset()), String.valueOf(b.ciCompressedSize()),
                String.valueOf(b.ciUncompressedSize()), String.valueOf(b.tocSize()),
                HexFormat.of().formatHex(b.tocDigest()));
    }

    public static void main(String[] a) throws Exception {
        Path work = Path.of(a[0]);
        Path blobDir = Path.of(a[1]);
        Compressor compressor = Compressor.fromCliName(a[4]);
        Digester digester = Digester.fromCliName(a[5]);
        BlobInfo info = BlobInfo.builder().blobId(a[2]).index(0).chunkCount(Integer.parseInt(a[3]))
                .compressor(compressor).digester(digester).features(Integer.parseInt(a[6]))
                .compressedSize(Long.parseLong(a[7])).uncompressedSize(Long.parseLong(a[8]))
                .ciCompressor(Compressor.fromCliName(a[9])).ciOffset(Long.parseLong(a[10]))
                .ciCompressedSize(Long.parseLong(a[11])).ciUncompressedSize(Long.parseLong(a[12]))
                .tocSize(Integer.parseInt(a[13])).tocDigest(HexFormat.of().parseHex(a[14])).build();
        // The chunks as a v6 bootstrap without chunk table gives them: no compressed extent, no digest.
        List<ChunkInfo> chunks = new ArrayList<>();
        try (BlobReader r = BlobReader.ofFile(blobDir.resolve(info.blobId()))) {
            CiTable t = BlobMeta.fromBlob(r, info).table(0);
            for (int i = 0; i < t.entries(); i++) {
                ChunkInfo e = t.chunk(i);
                chunks.add(new ChunkInfo(null, 0, 0, -1, 0, e.uncompressedOffset(), e.uncompressedSize(), 0, i, 0));
            }
        }
        Random rnd = new Random();
        boolean announced = false;
        for (;;) {
            CountingBackend backend = new CountingBackend(LocalFsBackend.ofDir(blobDir));
            backend.delayMillis(1);
            CacheConfig config = new CacheConfig("blobcache", work, false, true, 128 << 10, 0,
                    new PrefetchConfig(true, 2, 128 << 10, 0, false));
            try (CachedChunkSource s = new CachedChunkSource(List.of(info), backend, config)) {
                if (!announced) {
                    System.out.println("filling");
                    System.out.flush();
                    announced = true;
                }
                List<ChunkInfo> shuffled = new ArrayList<>(chunks);
                java.util.Collections.shuffle(shuffled, rnd);
                s.prefetch(shuffled);
                ByteBuffer dst = ByteBuffer.allocateDirect(1 << 20);
                while (!s.metrics().dataAllReady()) {
                    ChunkInfo c = chunks.get(rnd.nextInt(chunks.size()));
                    dst.clear().limit(c.uncompressedSize());
                    s.read(c, 0, dst, ReadPriority.ON_DEMAND);
                }
                s.awaitPrefetch(10, TimeUnit.SECONDS);
            }
            CacheSpace.forDir(work).delete(info.blobId());
        }
    }
}
