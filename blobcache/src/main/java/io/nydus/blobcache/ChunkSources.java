package io.nydus.blobcache;

import io.nydus.blobcache.cache.CacheConfig;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.io.IOException;
import java.util.List;

/** Creates the {@link ChunkSource} a cache config asks for. */
public final class ChunkSources {
    private ChunkSources() {
    }

    public static ChunkSource open(List<BlobInfo> blobs, Compressor compressor, Digester digester, BlobBackend backend,
            CacheConfig config) throws IOException {
        // The local chunk cache is plugged in here once it exists; until then every read goes to the backend.
        return new DirectChunkSource(blobs, compressor, digester, backend, config.validate());
    }
}
