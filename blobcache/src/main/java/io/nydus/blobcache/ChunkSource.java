package io.nydus.blobcache;

import io.nydus.rafs.ChunkInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The uncompressed, verified bytes of an image's chunks: the data path of nydusd, {@code unpack} and {@code check}.
 * Implementations fetch from a {@link BlobBackend}, decompress, verify digests and may cache. They never hand out
 * bytes that failed verification: such a read fails with an IOException.
 */
public interface ChunkSource extends AutoCloseable {

    /**
     * Copies {@code dst.remaining()} bytes of {@code chunk}'s uncompressed data, starting at {@code offsetInChunk},
     * into {@code dst} (advancing its position).
     */
    void read(ChunkInfo chunk, int offsetInChunk, ByteBuffer dst, ReadPriority priority) throws IOException;

    /**
     * Starts fetching chunks into the cache in the background and returns at once; chunks of any blobs, in any
     * order, duplicates allowed. On-demand reads keep priority over this work. Failures are not reported here: a
     * chunk that could not be prefetched is fetched when read. Sources without a cache ignore it.
     */
    default void prefetch(List<ChunkInfo> chunks) {
    }

    /**
     * Waits until every chunk passed to {@link #prefetch} so far is cached or has failed.
     *
     * @return false when the timeout passed first
     */
    default boolean awaitPrefetch(long timeout, TimeUnit unit) throws InterruptedException {
        return true;
    }

    /**
     * Cache metrics as upstream's {@code /api/v1/metrics/blobcache} JSON object (field name → number, string,
     * boolean or list); empty for sources without a cache.
     */
    default Map<String, Object> cacheMetrics() {
        return Map.of();
    }

    @Override
    void close() throws IOException;
}
