package io.nydus.blobcache;

import java.io.IOException;

/**
 * Where the bytes of data blobs live: a local directory, a registry, a registry behind a Dragonfly proxy.
 * Blobs are named by their id (64 hex digits, the sha256 of the blob for OCI registries). Implementations are
 * safe for concurrent use.
 */
public interface BlobBackend extends AutoCloseable {

    /** The upstream backend type name ("localfs", "registry", ...). */
    String type();

    /** Size of a blob in bytes. */
    long blobSize(String blobId) throws IOException;

    /**
     * Reads exactly {@code len} bytes at {@code offset} of a blob into {@code dst[dstOff...]}. Fails with an
     * IOException naming the blob when the blob is missing, shorter, or the backend cannot be reached after the
     * configured retries.
     */
    void read(String blobId, long offset, byte[] dst, int dstOff, int len, ReadPriority priority) throws IOException;

    /** Counters since start; see {@link BackendMetrics}. */
    BackendMetrics metrics();

    @Override
    void close() throws IOException;
}
