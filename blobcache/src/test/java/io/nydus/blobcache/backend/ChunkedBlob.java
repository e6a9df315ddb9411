package io.nydus.blobcache.backend;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A data blob made the way the builder makes one (zstd chunks, raw when compression does not help, sha256 chunk
 * digests), with the chunk records a bootstrap would hold for it.
 */
final class ChunkedBlob {
    final byte[] blob;
    final String id;
    final List<byte[]> data = new ArrayList<>();
    final List<ChunkInfo> chunks = new ArrayList<>();
    final BlobInfo info;

    ChunkedBlob(int count, int chunkSize, long seed) {
        Random r = new Random(seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long uoff = 0;
        for (int i = 0; i < count; i++) {
            byte[] d = new byte[chunkSize];
            if (i % 3 == 0) {
                r.nextBytes(d); // incompressible: stored raw
            } else {
                for (int j = 0; j < d.length; j++) {
                    d[j] = (byte) ("nydus chunk " + i).charAt(j % (12 + String.valueOf(i).length()));
                }
                d[r.nextInt(d.length)] = (byte) r.nextInt();
            }
            byte[] z = Compressor.ZSTD.compress(d, 0, d.length);
            byte[] stored = z == null ? d : z;
            int flags = z == null ? 0 : ChunkInfo.FLAG_COMPRESSED;
            chunks.add(new ChunkInfo(Digester.SHA256.digest(d), 0, flags, out.size(), stored.length, uoff, d.length,
                    uoff, i, 0));
            out.write(stored, 0, stored.length);
            uoff += d.length;
            data.add(d);
        }
        blob = out.toByteArray();
        id = HexFormat.of().formatHex(Digester.sha256().digest(blob));
        info = BlobInfo.builder().blobId(id).index(0).chunkSize(chunkSize).chunkCount(count)
                .compressor(Compressor.ZSTD).digester(Digester.SHA256).compressedSize(blob.length)
                .uncompressedSize(uoff).build();
    }

    String digest() {
        return "sha256:" + id;
    }
}
