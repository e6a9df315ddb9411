package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.tree.Tree;
import java.io.IOException;
import java.util.List;

/**
 * A layer's bootstrap as {@link Merger} uses it: the tree and blob table the builder wrote, or read back from the
 * written file. A conversion hands the builder's own to the merge, which skips opening, checking and walking the
 * file it has just written (about 70 ms of a Debian conversion's tail). A merge takes the tree apart: one merge each.
 */
public record BuiltBootstrap(Tree tree, List<BlobInfo> blobs, RafsVersion version, int chunkSize,
        Compressor compressor, Digester digester, boolean explicitUidGid) {

    static BuiltBootstrap read(RafsSuper sb) throws IOException {
        return new BuiltBootstrap(TreeLoader.load(sb), sb.blobs(), sb.version(), sb.chunkSize(), sb.compressor(),
                sb.digester(), sb.explicitUidGid());
    }
}
