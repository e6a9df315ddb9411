package io.nydus.builder;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Reads an OCI layer (tar, tar.gz or tar.zst, detected from the magic bytes) once, as a stream: entries go into a
 * {@link TreeBuilder}, file contents straight into the {@link ChunkPipeline}. Nothing is unpacked to disk.
 * Whiteout entries are kept as ordinary entries; {@link Overlay} interprets them.
 */
final class TarLayerReader {
    private TarLayerReader() {
    }

    /** Counts the bytes the tar parser consumed, to tell a missing archive end from a truncation. */
    private static final class CountingStream extends java.io.FilterInputStream {
        long count;
        boolean eof;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b < 0) {
                eof = true;
            } else {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                eof = true;
            } else {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += s;
            return s;
        }
    }

    static void read(InputStream raw, TreeBuilder tree, ChunkPipeline pipeline, Warnings warnings) throws IOException {
        CountingStream counted = new CountingStream(LayerCompression.decompressed(raw));
        RawPaxTarStream tar = new RawPaxTarStream(counted);
        TarArchiveEntry e;
        boolean any = false;
        while (true) {
            long before = counted.count;
            try {
                e = tar.getNextEntry();
            } catch (IOException | IllegalArgumentException ex) {
                // Layers written by `umoci insert` stop right after the last entry's data: no padding to 512 bytes,
                // no end-of-archive blocks. containerd applies them, so do we; a partial header is still corrupt.
                if (any && counted.eof && counted.count - before < 512) {
                    break;
                }
                throw new BadInputException("corrupt or truncated tar: " + ex.getMessage(), ex);
            }
            if (e == null) {
                // commons-compress takes a short header record for the end of the archive: a partial header.
                if (counted.count % 512 != 0 && counted.count - before >= 512) {
                    throw new BadInputException("truncated tar: the archive ends inside an entry header");
                }
                break;
            }
            any = true;
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
