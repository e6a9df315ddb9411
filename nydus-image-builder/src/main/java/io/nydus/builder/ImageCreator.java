package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * {@code nydus-image create}: one pass over a directory or a layer tar that produces a data blob and a bootstrap.
 *
 * <pre>
 * source ─▶ TreeBuilder (entries)          ┐
 *        └▶ ChunkPipeline (file contents) ─▶ BlobWriter ─▶ blob (temp name, renamed at the end)
 * tree ─▶ Overlay onto the parent (whiteouts) ─▶ RafsV5Writer / RafsV6Writer ─▶ bootstrap
 * </pre>
 */
public final class ImageCreator {
    /** Blob slot used for new chunks until the final blob table is known. */
    private static final int NEW_BLOB = Integer.MAX_VALUE;

    private ImageCreator() {
    }

    public static CreateResult create(CreateOptions o) throws IOException {
        if (o.blob == null && o.blobDir == null) {
            throw new IllegalArgumentException("one of --blob or --blob-dir is required");
        }
        if (o.blobToc && o.fsVersion != RafsVersion.V6) {
            throw new IllegalArgumentException("--features blob-toc requires --fs-version 6");
        }
        if (o.bootstrap == null && !o.blobInlineMeta && o.blobDir == null) {
            throw new IllegalArgumentException("one of --bootstrap, --blob-inline-meta or --blob-dir is required");
        }
        Warnings warnings = new Warnings();
        BlobTable table = new BlobTable();
        ChunkDict dict = new ChunkDict(table);
        Tree base = Tree.empty();
        if (o.parentBootstrap != null) {
            try (RafsSuper parent = RafsSuper.open(o.parentBootstrap)) {
                checkCompatible(parent, o, "parent bootstrap " + o.parentBootstrap);
                base = TreeLoader.load(parent);
                for (BlobInfo b : parent.blobs()) {
                    table.add(b);
                }
                dict.addAll(parent);
            }
        }
        for (Path d : o.chunkDicts) {
            try (RafsSuper sb = RafsSuper.open(d)) {
                checkCompatible(sb, o, "chunk dict " + d);
                dict.addAll(sb);
            }
        }

        Path blobTarget = o.blob != null ? o.blob : o.blobDir.resolve("blob.tmp-name");
        try (OutputFile blobOut = OutputFile.create(blobTarget)) {
            boolean v6 = o.fsVersion == RafsVersion.V6;
            OutputStream blobStream = o.blobCopy == null ? blobOut.stream()
                    : new CopyingStream(blobOut.stream(), o.blobCopy);
            BlobWriter writer = new BlobWriter(blobStream, NEW_BLOB, o.compressor, o.digester, o.chunkSize, v6,
                    o.alignedChunk);
            TreeBuilder tb = new TreeBuilder();
            long[] deduped = new long[2];
            try (ChunkPipeline pipeline = new ChunkPipeline(writer, dict.isEmpty() ? null : dict, o.compressor,
                    o.digester, o.chunkSize, o.threads)) {
                if (o.sourceType == CreateOptions.SourceType.DIRECTORY) {
                    DirectoryReader.read(o.source, tb, pipeline, warnings);
                } else if (o.sourceStream != null) {
                    TarLayerReader.read(o.sourceStream, tb, pipeline, warnings);
                } else {
                    if (!Files.isRegularFile(o.source) && !Files.exists(o.source)) {
                        throw new BadInputException("source " + o.source + " does not exist");
                    }
                    try (InputStream in = Files.newInputStream(o.source)) {
                        TarLayerReader.read(in, tb, pipeline, warnings);
                    }
                }
                pipeline.finish();
                deduped[0] = pipeline.dedupedChunks();
                deduped[1] = pipeline.dedupedBytes();
            }
            Set<String> implicitPaths = paths(tb.tree(), tb.implicitDirs());
            Overlay.apply(base, tb.tree(), o.whiteoutSpec, tb.implicitDirs());
            Tree tree = base;

            // Final blob table: parent blobs, chunk-dict blobs in first-use order, then the new blob.
            boolean keepNewBlob = writer.chunkCount() > 0 || o.blobInlineMeta;
            int newSlot = keepNewBlob ? table.reserve() : -1;
            remap(tree, slot -> slot == NEW_BLOB ? newSlot : slot);
            List<TreeEntry> prefetch = o.prefetchPatterns == null ? List.of()
                    : PrefetchList.resolve(tree, o.prefetchPatterns, warnings);
            boolean tarHeaders = o.blobInlineMeta || o.blobToc;
            BlobInfo newBlob = null;
            Path blobPath = null;
            if (keepNewBlob) {
                BlobWriter.DataTail tail = writer.finishData(tarHeaders, o.blobToc, o.blobInlineMeta);
                byte[] inline = null;
                if (o.blobInlineMeta) {
                    table.set(newSlot, tail.blob().toBuilder().blobId(BlobInfo.PLACEHOLDER_ID).build());
                    inline = bootstrapBytes(tree, table.list(), prefetch, o);
                }
                newBlob = writer.finish(tail, inline, o.blobToc, o.blobId);
                table.set(newSlot, newBlob);
                blobPath = o.blob != null ? o.blob : o.blobDir.resolve(newBlob.blobId());
                blobOut.commit(blobPath);
            }
            List<BlobInfo> blobs = table.list();
            Path bootstrapPath = o.bootstrap;
            if (bootstrapPath == null && o.blobDir != null) {
                byte[] boot = bootstrapBytes(tree, blobs, prefetch, o);
                bootstrapPath = o.blobDir.resolve(HexFormat.of().formatHex(io.nydus.rafs.Digester.sha256().digest(boot)));
                writeFile(bootstrapPath, boot);
            } else if (bootstrapPath != null) {
                try (OutputFile out = OutputFile.create(bootstrapPath)) {
                    writeBootstrap(tree, blobs, prefetch, o, out.stream());
                    out.commit();
                }
            }
            long[] counts = count(tree);
            String blobDigest = newBlob == null ? null : "sha256:" + HexFormat.of().formatHex(writer.fileSha256());
            return new CreateResult(bootstrapPath, newBlob, blobPath, blobDigest, blobs, counts[0], writer.chunkCount(),
                    deduped[0], deduped[1], warnings.summary(), implicitPaths, new BuiltBootstrap(tree, blobs,
                            o.fsVersion, o.chunkSize, o.compressor, o.digester, o.explicitUidGid));
        }
    }

    private static void checkCompatible(RafsSuper sb, CreateOptions o, String what) {
        if (sb.version() != o.fsVersion) {
            throw new IllegalArgumentException(what + " is RAFS " + sb.version() + ", the build is " + o.fsVersion);
        }
        if (sb.chunkSize() != o.chunkSize) {
            throw new IllegalArgumentException(what + " uses chunk size 0x" + Integer.toHexString(sb.chunkSize())
                    + ", the build uses 0x" + Integer.toHexString(o.chunkSize));
        }
    }

    /** Moves every chunk to the blob table slot {@code slotOf} gives for its current one. */
    static void remap(Tree tree, IntUnaryOperator slotOf) {
        Set<TreeInode> done = Collections.newSetFromMap(new IdentityHashMap<>());
        tree.preOrder(e -> {
            TreeInode in = e.inode();
            if (in.isReg() && done.add(in)) {
                List<ChunkInfo> cs = new ArrayList<>(in.chunks.size());
                for (ChunkInfo c : in.chunks) {
                    int slot = slotOf.applyAsInt(c.blobIndex());
                    cs.add(slot == c.blobIndex() ? c : c.withBlobIndex(slot));
                }
                in.chunks = cs;
            }
        });
    }

    /** Paths of the entries whose inode is in {@code inodes}. */
    private static Set<String> paths(Tree tree, Set<TreeInode> inodes) {
        Set<String> out = new java.util.TreeSet<>();
        tree.preOrder(e -> {
            if (inodes.contains(e.inode())) {
                out.add(e.path());
            }
        });
        return out;
    }

    private static long[] count(Tree tree) {
        long[] n = new long[1];
        tree.preOrder(e -> n[0]++);
        return n;
    }

    static byte[] bootstrapBytes(Tree tree, List<BlobInfo> blobs, List<TreeEntry> prefetch, CreateOptions o)
            throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeBootstrap(tree, blobs, prefetch, o, b);
        return b.toByteArray();
    }

    static void writeBootstrap(Tree tree, List<BlobInfo> blobs, List<TreeEntry> prefetch, CreateOptions o,
            OutputStream out) throws IOException {
        new BootstrapSpec(tree, blobs, o.chunkSize, o.compressor, o.digester, o.explicitUidGid, prefetch)
                .write(o.fsVersion, out);
    }

    private static void writeFile(Path path, byte[] data) throws IOException {
        try (OutputFile out = OutputFile.create(path)) {
            out.stream().write(data);
            out.commit();
        }
    }

    /** Writes to {@code out} and hands the same bytes to {@code copy} ({@link CreateOptions#blobCopy}). */
    private static final class CopyingStream extends FilterOutputStream {
        private final OutputStream copy;

        CopyingStream(OutputStream out, OutputStream copy) {
            super(out);
            this.copy = copy;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            copy.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            copy.write(b, off, len);
        }
    }
}
