package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * The blob table of the bootstrap being built: blobs inherited from a parent bootstrap keep their slots, the new
 * blob takes the next one, and chunk-dict blobs are appended when a chunk of theirs is first reused.
 */
final class BlobTable {
    private final List<BlobInfo> blobs = new ArrayList<>();

    /** Adds a blob (re-indexed to its slot) unless one with the same id is present; returns its slot. */
    synchronized int add(BlobInfo blob) {
        for (int i = 0; i < blobs.size(); i++) {
            BlobInfo b = blobs.get(i);
            if (b != null && b.blobId().equals(blob.blobId())) {
                return i;
            }
        }
        blobs.add(blob.toBuilder().index(blobs.size()).build());
        return blobs.size() - 1;
    }

    /** Reserves a slot for a blob whose table entry is known only at the end. */
    synchronized int reserve() {
        blobs.add(null);
        return blobs.size() - 1;
    }

    synchronized void set(int slot, BlobInfo blob) {
        blobs.set(slot, blob.toBuilder().index(slot).build());
    }

    /** The final list; every reserved slot must have been filled. */
    synchronized List<BlobInfo> list() {
        for (BlobInfo b : blobs) {
            if (b == null) {
                throw new IllegalStateException("blob table has an unfilled slot");
            }
        }
        return List.copyOf(blobs);
    }
}
