package io.nydus.rafs;

import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import java.util.List;

/**
 * Everything a bootstrap writer needs: the tree, the blob table it refers to, and image-wide settings.
 *
 * @param explicitUidGid record owners (false for {@code --repeatable}: every uid/gid is written as 0)
 * @param prefetch       entries listed in the prefetch table
 */
public record BootstrapSpec(Tree tree, List<BlobInfo> blobs, int chunkSize, Compressor compressor, Digester digester,
        boolean explicitUidGid, List<TreeEntry> prefetch) {

    public BootstrapSpec {
        if (chunkSize < 0x1000 || chunkSize > 0x100_0000 || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("invalid chunk size 0x" + Integer.toHexString(chunkSize)
                    + ": must be a power of two from 0x1000 to 0x1000000");
        }
        blobs = List.copyOf(blobs);
        prefetch = List.copyOf(prefetch);
    }
}
