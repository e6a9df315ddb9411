package io.nydus.blobcache;

import io.nydus.rafs.ChunkInfo;
import java.io.IOException;
import java.nio.ByteBuffer;

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

    @Override
    void close() throws IOException;
}
