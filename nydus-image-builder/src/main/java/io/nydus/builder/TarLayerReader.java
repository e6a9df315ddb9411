package io.nydus.builder;

import com.github.luben.zstd.ZstdInputStream;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads an OCI layer (tar, tar.gz or tar.zst, detected from the magic bytes) once, as a stream: entries go into a
 * {@link TreeBuilder}, file contents straight into the {@link ChunkPipeline}. Nothing is unpacked to disk.
 * Whiteout entries are kept as ordinary entries; {@link Overlay} interprets them.
 */
final class TarLayerReader {
    private TarLayerReader() {
    }

    /** Wraps {@code raw} with the decompressor its first bytes call for. */
    static InputStream decompressed(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xFF) == 0x1F && (magic[1] & 0xFF) == 0x8B) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        if (magic.length == 4 && (magic[0] & 0xFF) == 0x28 && (magic[1] & 0xFF) == 0xB5 && (magic[2] & 0xFF) == 0x2F
                && (magic[3] & 0xFF) == 0xFD) {
            return new BufferedInputStream(new ZstdInputStream(in), 1 << 16);
        }
        return in;
    }

    /** commons-compress decodes PAX values as UTF-8 text; this keeps their raw bytes for binary xattr values. */
    private static final class RawPaxTarStream extends TarArchiveInputStream {
        private final ByteArrayOutputStream pax = new ByteArrayOutputStream();

        RawPaxTarStream(InputStream in) {
            super(in, "UTF-8");
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            TarArchiveEntry cur = getCurrentEntry();
            if (n > 0 && cur != null && cur.isPaxHeader()) {
                pax.write(b, off, n);
            }
            return n;
        }

        /** The raw local PAX header read before the current entry, then forgotten. */
        byte[] takePax() {
            byte[] b = pax.toByteArray();
            pax.reset();
            return b;
        }
    }

    static void read(InputStream raw, TreeBuilder tree, ChunkPipeline pipeline, Warnings warnings) throws IOException {
        RawPaxTarStream tar = new RawPaxTarStream(decompressed(raw));
        TarArchiveEntry e;
        while (true) {
            try {
                e = tar.getNextEntry();
            } catch (IOException | IllegalArgumentException ex) {
                throw new BadInputException("corrupt or truncated tar: " + ex.getMessage(), ex);
            }
            if (e == null) {
                break;
            }
            byte[] pax = tar.takePax();
            String name = e.getName();
            List<byte[]> comps = TreeBuilder.components(name);
            TreeInode inode;
            if (e.isLink()) {
                List<byte[]> target = TreeBuilder.components(e.getLinkName());
                TreeEntry t = tree.lookup(target);
                if (t == null || t.isDir()) {
                    throw new BadInputException("hard link '" + name + "' points at '" + e.getLinkName()
                            + "', which is " + (t == null ? "missing" : "a directory"));
                }
                tree.put(comps, t.inode());
                continue;
            }
            int type;
            if (e.isDirectory()) {
                type = FileMode.S_IFDIR;
            } else if (e.isSymbolicLink()) {
                type = FileMode.S_IFLNK;
            } else if (e.isCharacterDevice()) {
                type = FileMode.S_IFCHR;
            } else if (e.isBlockDevice()) {
                type = FileMode.S_IFBLK;
            } else if (e.isFIFO()) {
                type = FileMode.S_IFIFO;
            } else if (e.isFile()) {
                type = FileMode.S_IFREG;
            } else {
                warnings.add("tar entry of an unsupported type skipped", name + " (type '" + (char) e.getLinkFlag() + "')");
                continue;
            }
            inode = new TreeInode(type | (e.getMode() & 07777));
            inode.uid = e.getLongUserId();
            inode.gid = e.getLongGroupId();
            FileTime t = e.getLastModifiedTime();
            if (t != null) {
                java.time.Instant i = t.toInstant();
                inode.mtime = i.getEpochSecond();
                inode.mtimeNsec = i.getNano();
            }
            if (pax.length > 0) {
                inode.xattrs = XattrFilter.filter(PaxXattrs.parse(pax), name, warnings);
            }
            if (type == FileMode.S_IFLNK) {
                if (e.getLinkName().isEmpty()) {
                    throw new BadInputException("symlink '" + name + "' has an empty target");
                }
                inode.symlinkTarget = e.getLinkName().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            } else if (type == FileMode.S_IFCHR || type == FileMode.S_IFBLK) {
                inode.rdev = FileMode.makedev(e.getDevMajor(), e.getDevMinor());
            } else if (type == FileMode.S_IFDIR && comps.isEmpty()) {
                tree.put(comps, inode);
                continue;
            }
            if (type == FileMode.S_IFREG) {
                long size = e.isSparse() ? e.getRealSize() : e.getSize();
                try {
                    pipeline.addFile(inode, tar, size);
                } catch (ChunkPipeline.SourceReadException ex) {
                    throw new BadInputException("corrupt or truncated tar at '" + name + "': " + ex.getMessage(), ex);
                }
            }
            tree.put(comps, inode);
        }
    }
}
