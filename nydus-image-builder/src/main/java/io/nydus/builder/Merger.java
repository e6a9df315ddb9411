package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * {@code nydus-image merge}: stacks per-layer bootstraps (each built with its whiteouts kept) into the image
 * bootstrap, applying OCI whiteouts between layers and concatenating their blob tables.
 *
 * <p>Each layer's own blob (the one inlined in the layer, carrying the placeholder id, or else its last blob) is
 * renamed after the layer: {@code blobDigests[i]}, else {@code originalBlobIds[i]}, else the source file's stem.
 */
public final class Merger {
    private Merger() {
    }

    /** Merged image bootstrap. */
    public record Result(Path bootstrap, List<BlobInfo> blobs, RafsVersion version) {
    }

    public static Result merge(MergeOptions o) throws IOException {
        if (o.sources.isEmpty()) {
            throw new IllegalArgumentException("merge needs at least one source bootstrap");
        }
        Warnings warnings = new Warnings();
        BlobTable table = new BlobTable();
        Tree base = Tree.empty();
        RafsVersion version = null;
        int chunkSize = 0;
        Compressor compressor = null;
        Digester digester = null;
        boolean explicitUidGid = false;
        if (o.parentBootstrap != null) {
            try (RafsSuper parent = RafsSuper.open(o.parentBootstrap)) {
                version = parent.version();
                chunkSize = parent.chunkSize();
                compressor = parent.compressor();
                digester = parent.digester();
                explicitUidGid = parent.explicitUidGid();
                base = TreeLoader.load(parent);
                for (BlobInfo b : parent.blobs()) {
                    table.add(b);
                }
            }
        }
        for (int i = 0; i < o.sources.size(); i++) {
            Path src = o.sources.get(i);
            BuiltBootstrap layer = o.built != null && i < o.built.size() ? o.built.get(i) : null;
            if (layer == null) {
                try (RafsSuper sb = RafsSuper.open(src)) {
                    layer = BuiltBootstrap.read(sb);
                }
            }
            if (version == null) {
                version = layer.version();
                chunkSize = layer.chunkSize();
                compressor = layer.compressor();
                digester = layer.digester();
            } else if (layer.version() != version || layer.chunkSize() != chunkSize) {
                throw new IllegalArgumentException("layer " + src + " is RAFS " + layer.version() + " with chunk size 0x"
                        + Integer.toHexString(layer.chunkSize()) + "; earlier layers are " + version + " with 0x"
                        + Integer.toHexString(chunkSize));
            }
            explicitUidGid |= layer.explicitUidGid();
            List<BlobInfo> blobs = layer.blobs();
            int own = ownBlob(blobs);
            int[] slots = new int[blobs.size()];
            for (BlobInfo b : blobs) {
                BlobInfo renamed = b.index() == own ? rename(b, i, src, o) : b;
                slots[b.index()] = table.add(renamed);
            }
            Tree upper = layer.tree();
            ImageCreator.remap(upper, slot -> slots[slot]);
            Overlay.apply(base, upper, WhiteoutSpec.OCI, implicitInodes(upper, o, i));
        }
        List<TreeEntry> prefetch = o.prefetchPatterns == null ? List.of()
                : PrefetchList.resolve(base, o.prefetchPatterns, warnings);
        BootstrapSpec spec = new BootstrapSpec(base, table.list(), chunkSize, compressor, digester, explicitUidGid,
                prefetch);
        try (OutputFile out = OutputFile.create(o.bootstrap)) {
            spec.write(version, out.stream());
            out.commit();
        }
        return new Result(o.bootstrap, table.list(), version);
    }

    private static Set<TreeInode> implicitInodes(Tree upper, MergeOptions o, int layer) {
        if (o.implicitDirs == null || layer >= o.implicitDirs.size() || o.implicitDirs.get(layer) == null) {
            return Set.of();
        }
        Set<TreeInode> out = Collections.newSetFromMap(new IdentityHashMap<>());
        for (String p : o.implicitDirs.get(layer)) {
            TreeEntry e = upper.lookup(p);
            if (e != null && e.isDir()) {
                out.add(e.inode());
            }
        }
        return out;
    }

    private static int ownBlob(List<BlobInfo> blobs) {
        for (BlobInfo b : blobs) {
            if (b.blobId().equals(BlobInfo.PLACEHOLDER_ID)) {
                return b.index();
            }
        }
        return blobs.size() - 1;
    }

    private static BlobInfo rename(BlobInfo b, int layer, Path src, MergeOptions o) {
        BlobInfo.Builder r = b.toBuilder();
        String id = null;
        if (o.blobDigests != null && layer < o.blobDigests.size()) {
            id = stripAlgorithm(o.blobDigests.get(layer));
        } else if (o.originalBlobIds != null && layer < o.originalBlobIds.size()) {
            id = o.originalBlobIds.get(layer);
        } else if (b.blobId().equals(BlobInfo.PLACEHOLDER_ID)) {
            String name = src.getFileName().toString();
            int dot = name.indexOf('.');
            id = dot > 0 ? name.substring(0, dot) : name;
        }
        if (id != null) {
            r.blobId(id);
        }
        if (o.blobSizes != null && layer < o.blobSizes.size()) {
            r.compressedSize(o.blobSizes.get(layer));
        }
        if (o.blobTocDigests != null && layer < o.blobTocDigests.size()) {
            r.tocDigest(HexFormat.of().parseHex(stripAlgorithm(o.blobTocDigests.get(layer))));
        }
        if (o.blobTocSizes != null && layer < o.blobTocSizes.size()) {
            r.tocSize(o.blobTocSizes.get(layer).intValue());
        }
        return r.build();
    }

    private static String stripAlgorithm(String digest) {
        return digest.startsWith("sha256:") ? digest.substring(7) : digest;
    }
}
