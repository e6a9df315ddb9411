package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.StoredChunk;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.CiTable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The data blobs of an image as local files (one {@code --blob} file, or files named by blob id in
 * {@code --blob-dir}), read chunk by chunk with decompression and digest verification.
 */
final class LocalBlobs implements AutoCloseable {
    private final List<BlobInfo> blobs;
    private final Path blobFile;
    private final Path blobDir;
    private final Map<Integer, BlobReader> readers = new HashMap<>();
    private final Map<Integer, CiTable> ciTables = new HashMap<>();

    LocalBlobs(List<BlobInfo> blobs, Path blobFile, Path blobDir) {
        this.blobs = blobs;
        this.blobFile = blobFile;
        this.blobDir = blobDir;
    }

    boolean available() {
        return blobFile != null || blobDir != null;
    }

    Path path(BlobInfo b) throws IOException {
        if (blobFile != null) {
            return blobFile;
        }
        if (blobDir == null) {
            throw new IOException("no --blob or --blob-dir given to read blob " + b.blobId());
        }
        Path p = blobDir.resolve(b.blobId());
        if (!Files.isRegularFile(p)) {
            throw new FileNotFoundException("blob " + b.blobId() + " not found in " + blobDir);
        }
        return p;
    }

    BlobReader reader(int blobIndex) throws IOException {
        BlobReader r = readers.get(blobIndex);
        if (r == null) {
            r = BlobReader.ofFile(path(blobs.get(blobIndex)));
            readers.put(blobIndex, r);
        }
        return r;
    }

    /** The chunk with its compressed extent filled in from the blob's ci table when the bootstrap lacks it. */
    ChunkInfo resolve(ChunkInfo c) throws IOException {
        if (c.isResolved() || c.isHole()) {
            return c;
        }
        return c.resolvedBy(ciTable(c.blobIndex()).chunk(c.index()));
    }

    /** A v6 blob's ci table, read from the blob once. */
    CiTable ciTable(int blobIndex) throws IOException {
        CiTable ci = ciTables.get(blobIndex);
        if (ci == null) {
            ci = BlobMeta.fromBlob(reader(blobIndex), blobs.get(blobIndex)).table(blobIndex);
            ciTables.put(blobIndex, ci);
        }
        return ci;
    }

    /** The verified uncompressed bytes of a chunk. */
    byte[] read(ChunkInfo chunk, boolean verify) throws IOException {
        if (chunk.isHole()) {
            return new byte[chunk.uncompressedSize()];
        }
        ChunkInfo c = resolve(chunk);
        BlobInfo b = blobs.get(c.blobIndex());
        BlobReader r = reader(c.blobIndex());
        if (c.compressedOffset() + c.compressedSize() > r.size()) {
            throw new RafsFormatException("blob " + b.blobId() + ": chunk " + c.index() + " [" + c.compressedOffset()
                    + ", +" + c.compressedSize() + ") beyond the blob's " + r.size() + " bytes");
        }
        byte[] stored = r.read(c.compressedOffset(), c.compressedSize());
        Digester d = verify ? b.digester() : null;
        return StoredChunk.decode(c, stored, b.compressor(), d, b.blobId());
    }

    @Override
    public void close() throws IOException {
        for (BlobReader r : readers.values()) {
            r.close();
        }
    }
}
