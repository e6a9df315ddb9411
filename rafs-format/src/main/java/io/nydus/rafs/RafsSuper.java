package io.nydus.rafs;

import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.BlobSections;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.rafs.v5.RafsV5Super;
import io.nydus.rafs.v6.ErofsSuperBlock;
import io.nydus.rafs.v6.RafsV6Super;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A format-neutral, read-only view of a RAFS bootstrap (v5 or v6). The bootstrap is memory-mapped and decoded on
 * demand; nothing proportional to the number of inodes is kept in memory.
 *
 * <p>Inodes are addressed by the number a mount reports as {@code st_ino}: the nid for v6, the inode index for v5.
 * Opening validates the superblock, the tables and the whole tree (every reachable inode, with loop detection),
 * so a malformed bootstrap is rejected at open; accessors may still throw {@link RafsFormatException}.
 * Instances are safe for concurrent readers.
 */
public abstract class RafsSuper implements Closeable {
    /** The v5 magic, "RAFS" read as a little-endian u32. */
    public static final int V5_MAGIC = 0x52414653;
    /** Largest bootstrap accepted (it must be mappable as one buffer). */
    public static final long MAX_BOOTSTRAP = Integer.MAX_VALUE;

    protected final ByteBuffer buf;
    private volatile List<BlobInfo> blobs = List.of();

    protected RafsSuper(ByteBuffer buf) {
        this.buf = buf;
    }

    /** Opens and validates a bootstrap file. */
    public static RafsSuper open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_BOOTSTRAP) {
                throw new RafsFormatException(path + ": " + size + " bytes is too large for a bootstrap");
            }
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            try {
                return open(b);
            } catch (RafsFormatException e) {
                throw new RafsFormatException(path + ": " + e.getMessage(), e);
            }
        }
    }

    /** Opens and validates a bootstrap held in a buffer. */
    public static RafsSuper open(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.position(0);
        if (b.limit() >= 8 && b.getInt(0) == V5_MAGIC) {
            return new RafsV5Super(b);
        }
        if (ErofsSuperBlock.matches(b)) {
            return new RafsV6Super(b);
        }
        throw new RafsFormatException("not a RAFS bootstrap: neither the v5 magic at offset 0 nor the EROFS magic at 1024 ("
                + b.limit() + " bytes)");
    }

    public static RafsSuper open(byte[] bytes) {
        return open(ByteBuffer.wrap(bytes));
    }

    /**
     * Opens the bootstrap inlined in a data blob ({@code image.boot} section). Blob ids left as the placeholder
     * by the builder are replaced by {@code blobId} (the blob's own id, e.g. its file name).
     */
    public static RafsSuper openInlined(BlobReader blob, String blobId) throws IOException {
        BlobSections sections = BlobSections.read(blob);
        BlobSections.Section boot = sections.find(TarHeader.IMAGE_BOOT);
        if (boot == null) {
            throw new RafsFormatException("blob has no inlined bootstrap (no image.boot section)");
        }
        RafsSuper sb = open(sections.load(blob, boot, MAX_BOOTSTRAP));
        if (blobId != null) {
            sb.replacePlaceholderBlobIds(blobId);
        }
        return sb;
    }

    /** Detects the bootstrap version of a file without opening it fully; null when it is neither. */
    public static RafsVersion detect(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(ErofsSuperBlock.OFFSET + 4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // fill
            }
            if (b.position() >= 4 && b.getInt(0) == V5_MAGIC) {
                return RafsVersion.V5;
            }
            if (b.position() >= ErofsSuperBlock.OFFSET + 4 && b.getInt(ErofsSuperBlock.OFFSET) == ErofsSuperBlock.MAGIC) {
                return RafsVersion.V6;
            }
            return null;
        }
    }

    public abstract RafsVersion version();

    /** {@code RafsSuperFlags}. */
    public abstract long flags();

    public abstract int chunkSize();

    public Compressor compressor() {
        return Compressor.fromSuperFlags(flags());
    }

    public Digester digester() {
        return Digester.fromSuperFlags(flags());
    }

    public boolean explicitUidGid() {
        return (flags() & SuperFlags.EXPLICIT_UID_GID) != 0;
    }

    /** The blob table: chunks name their blob by its index here. */
    public List<BlobInfo> blobs() {
        return blobs;
    }

    protected void setBlobs(List<BlobInfo> list) {
        blobs = List.copyOf(list);
    }

    /** Sets the id of blobs whose id is the inline-meta placeholder (the blob's own id is only known outside). */
    protected void replacePlaceholderBlobIds(String blobId) {
        List<BlobInfo> out = new ArrayList<>();
        for (BlobInfo bi : blobs) {
            out.add(bi.blobId().equals(BlobInfo.PLACEHOLDER_ID) ? bi.toBuilder().blobId(blobId).build() : bi);
        }
        blobs = List.copyOf(out);
    }

    public abstract long rootIno();

    /** Number of inode entries recorded in the superblock (hard-link paths counted separately). */
    public abstract long inodeCount();

    /** Attributes of inode {@code ino}. */
    public abstract Inode inode(long ino);

    /** The inode a directory entry names, or -1 when the directory has no such entry. */
    public abstract long lookup(long dirIno, byte[] name);

    public long lookup(long dirIno, String name) {
        return lookup(dirIno, name.getBytes(StandardCharsets.UTF_8));
    }

    /** Resolves an absolute path ("/" is the root); -1 when any component is missing. */
    public long lookupPath(String path) {
        long ino = rootIno();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (!inode(ino).isDir()) {
                return -1;
            }
            ino = lookup(ino, part);
            if (ino < 0) {
                return -1;
            }
        }
        return ino;
    }

    /** Receives directory entries; returns false to stop. */
    @FunctionalInterface
    public interface DirentSink {
        boolean accept(byte[] name, long ino, int mode, long nextCookie);
    }

    /**
     * Lists a directory's entries ("." and ".." excluded) in name order, starting at {@code cookie} (0 = start,
     * otherwise a value passed to the sink earlier).
     */
    public abstract void readdir(long dirIno, long cookie, DirentSink sink);

    /** Target of a symlink. */
    public abstract byte[] readlink(long ino);

    public abstract Xattrs xattrs(long ino);

    /** Chunk {@code index} of a regular file (file offset {@code index * chunkSize()}). */
    public abstract ChunkInfo chunk(long ino, int index);

    public List<ChunkInfo> chunks(long ino) {
        Inode in = inode(ino);
        List<ChunkInfo> out = new ArrayList<>(in.chunkCount());
        for (int i = 0; i < in.chunkCount(); i++) {
            out.add(chunk(ino, i));
        }
        return out;
    }

    /** Inodes listed in the prefetch table. */
    public abstract long[] prefetchInodes();

    /** v5 only: the inode's stored digest; null for v6. */
    public byte[] inodeDigest(long ino) {
        return null;
    }

    /** One entry met by {@link #walk}. */
    public record Entry(String path, byte[] name, long ino, Inode inode) {
    }

    /** Receives walked entries. */
    @FunctionalInterface
    public interface WalkVisitor {
        void visit(Entry e) throws IOException;
    }

    /** Visits every entry depth-first, parents before children, children in name order. */
    public void walk(WalkVisitor visitor) throws IOException {
        Deque<Entry> stack = new ArrayDeque<>();
        stack.push(new Entry("/", new byte[0], rootIno(), inode(rootIno())));
        while (!stack.isEmpty()) {
            Entry e = stack.pop();
            visitor.visit(e);
            if (e.inode().isDir()) {
                List<Entry> kids = new ArrayList<>();
                readdir(e.ino(), 0, (name, ino, mode, next) -> {
                    String p = (e.path().equals("/") ? "" : e.path()) + "/" + new String(name, StandardCharsets.UTF_8);
                    kids.add(new Entry(p, name, ino, inode(ino)));
                    return true;
                });
                for (int i = kids.size() - 1; i >= 0; i--) {
                    stack.push(kids.get(i));
                }
            }
        }
    }

    /** Size of the mapped bootstrap. */
    public long bootstrapSize() {
        return buf.limit();
    }

    @Override
    public void close() {
        // The mapping is released by the garbage collector; nothing else is held.
    }
}
