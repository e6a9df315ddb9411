package io.nydus.blobcache.cache;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.blob.BlobReader;
import java.io.IOException;

/** A blob of a {@link BlobBackend} seen as a {@link BlobReader}, to read its ci table and trailing sections. */
final class BackendBlobReader implements BlobReader {
    private final BlobBackend backend;
    private final String blobId;
    private final ReadPriority priority;
    private long size;

    /** @param size the blob size when the blob table knows it, else 0 (asked from the backend on first use) */
    BackendBlobReader(BlobBackend backend, String blobId, long size, ReadPriority priority) {
        this.backend = backend;
        this.blobId = blobId;
        this.size = size;
        this.priority = priority;
    }

    @Override
    public long size() throws IOException {
        if (size <= 0) {
            size = backend.blobSize(blobId);
        }
        return size;
    }

    @Override
    public void read(long offset, byte[] dst, int dstOff, int len) throws IOException {
        backend.read(blobId, offset, dst, dstOff, len, priority);
    }
}
