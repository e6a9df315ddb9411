package io.nydus.rafs;

import io.nydus.rafs.blob.ChunkRecord;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.v5.RafsV5Writer;
import io.nydus.rafs.v6.RafsV6Writer;
import java.io.IOException;
import java.io.OutputStream;
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
        if (!ChunkRecord.isValidChunkSize(chunkSize)) {
            throw new IllegalArgumentException("invalid chunk size 0x" + Integer.toHexString(chunkSize)
                    + ": must be a power of two from 0x1000 to 0x1000000");
        }
        blobs = List.copyOf(blobs);
        prefetch = List.copyOf(prefetch);
    }

    /** Writes this bootstrap in the on-disk layout of {@code version}. */
    public void write(RafsVersion version, OutputStream out) throws IOException {
        if (version == RafsVersion.V6) {
            RafsV6Writer.write(this, out);
        } else {
            RafsV5Writer.write(this, out);
        }
    }
}
