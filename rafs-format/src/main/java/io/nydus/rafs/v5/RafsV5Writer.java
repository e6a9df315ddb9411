package io.nydus.rafs.v5;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.SuperFlags;
import io.nydus.rafs.blob.ChunkRecord;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a RAFS v5 bootstrap (notes §1.1):
 *
 * <pre>
 * [superblock 8192 B][inode table][prefetch table][blob table][extended blob table][inode records, DFS pre-order]
 * </pre>
 * every section padded to 8 bytes. Each path has its own record (hard links repeat the chunk list and share
 * {@code i_ino}); inode digests form a Merkle tree.
 */
public final class RafsV5Writer {
    private RafsV5Writer() {
    }

    public static long write(BootstrapSpec spec, OutputStream out) throws IOException {
        Map<TreeEntry, Long> firstChild = new IdentityHashMap<>();
        List<TreeEntry> order = spec.tree().indexOrder(firstChild::put);
        Map<TreeEntry, Long> index = new IdentityHashMap<>();
        Map<TreeInode, Long> inoOf = new IdentityHashMap<>();
        Map<TreeInode, Integer> links = new IdentityHashMap<>();
        for (int i = 0; i < order.size(); i++) {
            TreeEntry e = order.get(i);
            index.put(e, i + 1L);
            inoOf.putIfAbsent(e.inode(), i + 1L);
            links.merge(e.inode(), 1, Integer::sum);
        }
        Map<TreeInode, byte[]> digests = merkle(order, spec.digester());

        List<TreeEntry> pre = new ArrayList<>(order.size());
        spec.tree().preOrder(pre::add);
        int entries = order.size();
        long inodeTableOffset = RafsV5SuperBlock.SIZE;
        long prefetchOffset = inodeTableOffset + align8(4L * entries);
        List<TreeEntry> prefetch = spec.prefetch();
        long blobTableOffset = prefetchOffset + align8(4L * prefetch.size());
        byte[] blobTable = RafsV5BlobTable.encodeTable(spec.blobs());
        long extOffset = blobTableOffset + blobTable.length;
        byte[] extTable = RafsV5BlobTable.encodeExtTable(spec.blobs());
        long recordsOffset = extOffset + extTable.length;

        Map<TreeEntry, Long> recordPos = new IdentityHashMap<>();
        long pos = recordsOffset;
        boolean anyXattr = false;
        for (TreeEntry e : pre) {
            recordPos.put(e, pos);
            pos += recordSize(e);
            anyXattr |= !e.inode().xattrs.isEmpty();
        }
        long total = pos;
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("v5 bootstrap exceeds 2 GiB");
        }

        ByteBuffer head = ByteBuffer.allocate((int) recordsOffset).order(ByteOrder.LITTLE_ENDIAN);
        long flags = spec.compressor().superFlag() | spec.digester().superFlag()
                | (spec.explicitUidGid() ? SuperFlags.EXPLICIT_UID_GID : 0) | (anyXattr ? SuperFlags.HAS_XATTR : 0);
        new RafsV5SuperBlock(spec.chunkSize(), flags, inoOf.size(), inodeTableOffset, prefetchOffset, blobTableOffset,
                entries, prefetch.size(), blobTable.length, spec.blobs().size(), extOffset).write(head);
        for (TreeEntry e : order) {
            head.putInt((int) (inodeTableOffset + 4 * (index.get(e) - 1)), (int) (recordPos.get(e) >>> 3));
        }
        int p = (int) prefetchOffset;
        for (TreeEntry e : prefetch) {
            head.putInt(p, inoOf.get(e.inode()).intValue());
            p += 4;
        }
        head.put((int) blobTableOffset, blobTable);
        head.put((int) extOffset, extTable);
        out.write(head.array());

        for (TreeEntry e : pre) {
            TreeInode in = e.inode();
            byte[] name = e.parent() == null ? new byte[] {'/'} : e.name();
            byte[] target = in.isSymlink() ? in.symlinkTarget : new byte[0];
            byte[] xattrs = in.xattrs.isEmpty() ? new byte[0] : RafsV5Xattrs.encode(in.xattrs);
            int size = (int) recordSize(e);
            ByteBuffer r = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
            long nlink;
            long childIndex = 0;
            long childCount;
            long isize;
            if (in.isDir()) {
                nlink = 2 + e.children().stream().filter(TreeEntry::isDir).count();
                childIndex = firstChild.get(e);
                childCount = e.childCount();
                long names = 0;
                for (TreeEntry c : e.children()) {
                    names += c.name().length + 8;
                }
                isize = names == 0 ? 4096 : align(names, 4096);
            } else {
                nlink = links.get(in);
                childCount = in.isReg() ? in.chunks.size() : 0;
                isize = in.isReg() ? in.size : in.isSymlink() ? target.length : 0;
            }
            long iflags = (in.isSymlink() ? RafsV5InodeRecord.FLAG_SYMLINK : 0)
                    | (!in.isDir() && nlink > 1 ? RafsV5InodeRecord.FLAG_HARDLINK : 0)
                    | (xattrs.length > 0 ? RafsV5InodeRecord.FLAG_XATTR : 0);
            long blocks = (isize + xattrs.length + 511) / 512;
            long parent = e.parent() == null ? 0 : inoOf.get(e.parent().inode());
            long rdev = FileMode.isChr(in.mode) || FileMode.isBlk(in.mode) ? in.rdev : 0;
            new RafsV5InodeRecord(digests.get(in), parent, inoOf.get(in), spec.explicitUidGid() ? in.uid : 0,
                    spec.explicitUidGid() ? in.gid : 0, in.mode, isize, blocks, iflags, nlink, childIndex, childCount,
                    name.length, target.length, rdev, in.mtimeNsec, in.mtime).write(r, 0);
            int q = RafsV5InodeRecord.SIZE;
            r.put(q, name);
            q += align8(name.length);
            r.put(q, target);
            q += align8(target.length);
            r.put(q, xattrs);
            q += xattrs.length;
            r.position(q);
            if (in.isReg()) {
                for (ChunkInfo c : in.chunks) {
                    ChunkRecord.write(c, r);
                }
            }
            out.write(r.array());
        }
        return total;
    }

    private static long recordSize(TreeEntry e) {
        TreeInode in = e.inode();
        int name = e.parent() == null ? 1 : e.name().length;
        long size = RafsV5InodeRecord.SIZE + align8(name);
        if (in.isSymlink()) {
            size += align8(in.symlinkTarget.length);
        }
        if (!in.xattrs.isEmpty()) {
            size += RafsV5Xattrs.encode(in.xattrs).length;
        }
        if (in.isReg()) {
            size += (long) ChunkRecord.SIZE * in.chunks.size();
        }
        return size;
    }

    /** Inode digests, computed children first (children always have larger indexes than their parent). */
    static Map<TreeInode, byte[]> merkle(List<TreeEntry> order, Digester digester) {
        Map<TreeInode, byte[]> d = new IdentityHashMap<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            TreeInode in = order.get(i).inode();
            if (d.containsKey(in)) {
                continue;
            }
            Digester.Hasher h = digester.newHasher();
            if (in.isDir()) {
                for (TreeEntry c : order.get(i).children()) {
                    h.update(d.get(c.inode()));
                }
            } else if (in.isReg()) {
                for (ChunkInfo c : in.chunks) {
                    h.update(c.digest());
                }
            } else if (in.isSymlink()) {
                h.update(in.symlinkTarget);
            }
            d.put(in, h.finish());
        }
        return d;
    }

    static long align8(long v) {
        return (v + 7) & ~7L;
    }

    static int align8(int v) {
        return (v + 7) & ~7;
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

}
