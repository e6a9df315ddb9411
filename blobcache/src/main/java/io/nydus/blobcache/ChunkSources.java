package io.nydus.blobcache;

import io.nydus.blobcache.cache.CacheConfig;
import io.nydus.blobcache.cache.CachedChunkSource;
import io.nydus.rafs.BlobInfo;
import java.io.IOException;
import java.util.List;

/** Creates the {@link ChunkSource} a cache config asks for. */
public final class ChunkSources {
    private ChunkSources() {
    }

    /**
     * A {@link CachedChunkSource} for cache types {@code blobcache} / {@code filecache}; otherwise (no cache,
     * {@code dummycache}) a {@link DirectChunkSource} that reads every chunk from the backend.
     *
     * @throws IllegalArgumentException for a local cache config it cannot serve (no work dir, compressed=true)
     */
    /** Chunks are decoded with their blob's compressor and verified with its digester (the blob table says). */
    public static ChunkSource open(List<BlobInfo> blobs, BlobBackend backend, CacheConfig config) throws IOException {
        if (config.isLocalCache()) {
            return new CachedChunkSource(blobs, backend, config);
        }
        return new DirectChunkSource(blobs, backend, config.validate());
    }
}
