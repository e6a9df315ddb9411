package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Chunks that already exist in other blobs (a {@code --chunk-dict} bootstrap or the {@code --parent-bootstrap}),
 * by digest. A chunk found here is referenced, not written again; its blob joins the output blob table.
 */
final class ChunkDict {
    private final Map<DigestKey, ChunkInfo> chunks = new HashMap<>();
    private final Map<Integer, BlobInfo> sourceBlobs = new HashMap<>();
    private final Map<Integer, Integer> outputSlot = new HashMap<>();
    private final BlobTable table;

    ChunkDict(BlobTable table) {
        this.table = table;
    }

    /** Adds every chunk of a bootstrap (the first occurrence of each digest wins). */
    void addAll(RafsSuper sb) throws IOException {
        int base = sourceBlobs.size();
        for (BlobInfo b : sb.blobs()) {
            sourceBlobs.put(base + b.index(), b);
        }
        sb.walk(e -> {
            if (e.inode().isReg()) {
                for (int i = 0; i < e.inode().chunkCount(); i++) {
                    ChunkInfo c = sb.chunk(e.ino(), i);
                    if (c.digest() != null && c.isResolved()) {
                        chunks.putIfAbsent(new DigestKey(c.digest()), c.withBlobIndex(base + c.blobIndex()));
                    }
                }
            }
        });
    }

    boolean isEmpty() {
        return chunks.isEmpty();
    }

    /** Whether a chunk with this digest exists (no side effect). */
    boolean contains(byte[] digest) {
        return chunks.containsKey(new DigestKey(digest));
    }

    /** A stored chunk with this digest, re-indexed into the output blob table; null when none. */
    ChunkInfo find(byte[] digest) {
        ChunkInfo c = chunks.get(new DigestKey(digest));
        if (c == null) {
            return null;
        }
        int slot;
        synchronized (this) {
            slot = outputSlot.computeIfAbsent(c.blobIndex(), k -> table.add(sourceBlobs.get(k)));
        }
        return c.withBlobIndex(slot);
    }
}
