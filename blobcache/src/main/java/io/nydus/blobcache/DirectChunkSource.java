package io.nydus.blobcache;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.StoredChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A {@link ChunkSource} without a cache: every read fetches the chunk from the backend, decompresses and
 * verifies it. Used by tools that read each chunk once ({@code unpack}, {@code check}).
 */
public final class DirectChunkSource implements ChunkSource {
    private final List<BlobInfo> blobs;
    private final BlobBackend backend;
    private final boolean verify;

    public DirectChunkSource(List<BlobInfo> blobs, BlobBackend backend, boolean verify) {
        this.blobs = List.copyOf(blobs);
        this.backend = backend;
        this.verify = verify;
    }

    /**
     * Fetches, decompresses and (when enabled and the digest is known) verifies one chunk. A chunk that fails to
     * decompress or verify is fetched once more (the transfer may have been corrupted); if it fails again the read
     * fails: bad bytes are never returned.
     */
    public byte[] load(ChunkInfo chunk, ReadPriority priority) throws IOException {
        if (chunk.isHole()) {
            return new byte[chunk.uncompressedSize()];
        }
        if (!chunk.isResolved()) {
            throw new IOException("chunk " + chunk.index() + " of blob " + chunk.blobIndex()
                    + " is not in the bootstrap's chunk table; a blob meta is needed to read it");
        }
        BlobInfo blob = blobs.get(chunk.blobIndex());
        try {
            return fetch(blob, chunk, priority);
        } catch (CorruptChunkException first) {
            try {
                return fetch(blob, chunk, priority);
            } catch (CorruptChunkException second) {
                throw new IOException(second.getMessage() + " (fetched twice)", second);
            }
        }
    }

    private byte[] fetch(BlobInfo blob, ChunkInfo chunk, ReadPriority priority) throws IOException {
        byte[] stored = new byte[chunk.compressedSize()];
        backend.read(blob.blobId(), chunk.compressedOffset(), stored, 0, stored.length, priority);
        try {
            return StoredChunk.decode(chunk, stored, blob.compressor(), verify ? blob.digester() : null, blob.blobId());
        } catch (RafsFormatException | IndexOutOfBoundsException e) {
            throw new CorruptChunkException(e.getMessage(), e);
        }
    }

    /** Chunk bytes that do not decompress or verify. */
    private static final class CorruptChunkException extends IOException {
        CorruptChunkException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Override
    public void read(ChunkInfo chunk, int offsetInChunk, ByteBuffer dst, ReadPriority priority) throws IOException {
        byte[] data = load(chunk, priority);
        dst.put(data, offsetInChunk, dst.remaining());
    }

    @Override
    public void close() throws IOException {
        backend.close();
    }
}
