package io.nydus.rafs.v6;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.ChunkInfo;
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
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a RAFS v6 bootstrap: an EROFS image whose regular files are chunk-based and point into data blobs
 * (EROFS devices). Layout (notes §2.1):
 *
 * <pre>
 * 0       1024 zero bytes
 * 1024    EROFS superblock                 {@link ErofsSuperBlock}
 * 1152    nydus extended superblock        {@link RafsV6SuperBlockExt}
 * 1408    device table, 128 B per blob     {@link RafsV6Device}
 * 4K      blob table, 256 B per blob       {@link RafsV6BlobEntry}
 *         prefetch table (u32 nids)
 * 4K      meta_addr: one zero block (so the root gets nid 128, as upstream), then inode records with their
 *         xattrs, chunk indexes and inline directory/symlink tails
 * 4K      whole data blocks of large directories and symlinks
 * 4K      chunk table (80-byte records, sorted by digest and blob)
 *         zero padding to 4K
 * </pre>
 */
public final class RafsV6Writer {
    static final int BLOCK = 4096;
    private static final int BLOCK_BITS = 12;
    /** Alignment of each blob's start in the flat block address space (V6_BLOCK_SEG_ALIGNMENT). */
    private static final long SEG_ALIGN_BLOCKS = 0x8_0000 / BLOCK;

    private RafsV6Writer() {
    }

    /** Per-inode layout decided before anything is written. */
    private static final class Slot {
        final TreeInode inode;
        final long index;
        final TreeEntry firstEntry;
        long nlink;
        byte[] xattrs;
        boolean extended;
        int layout;
        long pos;          // offset in the meta area (nid = pos / 32)
        byte[] data;       // symlink target, or dirent blocks (directories, filled late)
        List<Dirent> dirents;
        int dataSize;
        int fullBlocks;    // whole blocks stored outside the inode
        long dataBlkaddr;  // absolute block address of those blocks
        int inlineLen;     // tail stored right after the inode

        Slot(TreeInode inode, long index, TreeEntry firstEntry) {
            this.inode = inode;
            this.index = index;
            this.firstEntry = firstEntry;
        }

        int headSize() {
            return (extended ? ErofsInode.EXTENDED_SIZE : ErofsInode.COMPACT_SIZE) + xattrs.length;
        }
    }

    private record Dirent(byte[] name, TreeInode target, int type) {
    }

    /** Writes the bootstrap for {@code spec} and returns its size in bytes. */
    public static long write(BootstrapSpec spec, OutputStream out) throws IOException {
        List<TreeEntry> order = spec.tree().indexOrder();
        Map<TreeInode, Slot> slots = new IdentityHashMap<>();
        List<Slot> unique = new ArrayList<>();
        Map<TreeInode, Integer> links = new IdentityHashMap<>();
        boolean anyXattr = false;
        long index = 1;
        for (TreeEntry e : order) {
            links.merge(e.inode(), 1, Integer::sum);
            Slot s = slots.get(e.inode());
            if (s == null) {
                s = new Slot(e.inode(), index, e);
                slots.put(e.inode(), s);
                unique.add(s);
            }
            index++;
        }
        long entryCount = index - 1;

        // Attributes, data sizes and inline/plain decisions.
        for (Slot s : unique) {
            TreeInode in = s.inode;
            s.xattrs = ErofsXattrs.encode(in.xattrs);
            anyXattr |= s.xattrs.length > 0;
            if (in.isDir()) {
                long subdirs = s.firstEntry.children().stream().filter(TreeEntry::isDir).count();
                s.nlink = 2 + subdirs;
                s.dirents = dirents(s.firstEntry);
                s.dataSize = dirSize(s.dirents);
            } else {
                s.nlink = links.get(in);
                if (in.isSymlink()) {
                    s.data = in.symlinkTarget;
                    s.dataSize = in.symlinkTarget.length;
                }
            }
            long uid = spec.explicitUidGid() ? in.uid : 0;
            long gid = spec.explicitUidGid() ? in.gid : 0;
            long size = in.isDir() || in.isSymlink() ? s.dataSize : in.isReg() ? in.size : 0;
            s.extended = !ErofsInode.fitsCompact(s.nlink, size, uid, gid, in.mtime, in.mtimeNsec);
        }

        int nblobs = spec.blobs().size();
        if (nblobs >= 255) {
            throw new IllegalArgumentException("RAFS v6 supports at most 254 blobs, got " + nblobs);
        }
        long blobTableOffset = align(RafsV6Device.TABLE_OFFSET + (long) RafsV6Device.SIZE * nblobs, BLOCK);
        long blobTableSize = (long) RafsV6BlobEntry.SIZE * nblobs;
        List<TreeEntry> prefetch = nblobs > 0 ? spec.prefetch() : List.of();
        long prefetchOffset = blobTableOffset + blobTableSize;
        long prefetchSize = 4L * prefetch.size();
        long metaAddr = align(prefetchOffset + prefetchSize, BLOCK);

        // Inode placement in the meta area (offsets relative to meta_addr).
        MetaAllocator alloc = new MetaAllocator(BLOCK);
        for (Slot s : unique) {
            int head = s.headSize();
            if (s.inode.isReg()) {
                s.layout = ErofsInode.LAYOUT_CHUNK_BASED;
                int len = align(head, ErofsInode.CHUNK_INDEX_SIZE) + ErofsInode.CHUNK_INDEX_SIZE * s.inode.chunks.size();
                s.pos = alloc.allocate(len, head);
            } else if (s.inode.isDir() || s.inode.isSymlink()) {
                int tail = s.dataSize % BLOCK;
                if (tail != 0 && head + tail <= BLOCK) {
                    s.layout = ErofsInode.LAYOUT_FLAT_INLINE;
                    s.fullBlocks = s.dataSize / BLOCK;
                    s.inlineLen = tail;
                    s.pos = alloc.allocate(head + tail, head + tail);
                } else {
                    s.layout = ErofsInode.LAYOUT_FLAT_PLAIN;
                    s.fullBlocks = (s.dataSize + BLOCK - 1) / BLOCK;
                    s.pos = alloc.allocate(head, head);
                }
            } else {
                s.layout = ErofsInode.LAYOUT_FLAT_PLAIN;
                s.pos = alloc.allocate(head, head);
            }
        }
        long metaEnd = metaAddr + align(alloc.end(), BLOCK);
        long dataBlk = metaEnd / BLOCK;
        for (Slot s : unique) {
            if (s.fullBlocks > 0) {
                s.dataBlkaddr = dataBlk;
                dataBlk += s.fullBlocks;
            }
        }
        long chunkTableOffset = dataBlk * BLOCK;
        List<ChunkInfo> chunkTable = chunkTable(unique);
        long chunkTableSize = (long) ChunkRecord.SIZE * chunkTable.size();
        long total = align(chunkTableOffset + chunkTableSize, BLOCK);
        if (chunkTableOffset > Integer.MAX_VALUE - BLOCK) {
            throw new IllegalArgumentException("bootstrap metadata exceeds 2 GiB");
        }
        Slot root = slots.get(spec.tree().root().inode());
        if (root.pos / ErofsInode.SLOT_SIZE > 0xFFFF) {
            throw new IllegalStateException("root nid does not fit 16 bits");
        }

        ByteBuffer b = ByteBuffer.allocate((int) chunkTableOffset).order(ByteOrder.LITTLE_ENDIAN);
        long deviceBlocks = 0;
        long mapped = total / BLOCK;
        boolean allInlinedDigest = nblobs > 0;
        for (BlobInfo blob : spec.blobs()) {
            long blocks = blob.uncompressedSize() / BLOCK;
            mapped = align(mapped, SEG_ALIGN_BLOCKS);
            new RafsV6Device(blob.blobId(), blocks, mapped).write(b, RafsV6Device.TABLE_OFFSET + RafsV6Device.SIZE * blob.index());
            mapped += blocks;
            deviceBlocks += blocks;
            RafsV6BlobEntry.write(blob, b, (int) blobTableOffset + RafsV6BlobEntry.SIZE * blob.index());
            allInlinedDigest &= blob.hasFeature(BlobFeatures.INLINED_CHUNK_DIGEST);
        }
        long flags = spec.compressor().superFlag() | spec.digester().superFlag() | SuperFlags.ENCRYPTION_NONE
                | (spec.explicitUidGid() ? SuperFlags.EXPLICIT_UID_GID : 0) | (anyXattr ? SuperFlags.HAS_XATTR : 0)
                | (allInlinedDigest ? SuperFlags.INLINED_CHUNK_DIGEST : 0);
        new ErofsSuperBlock(BLOCK_BITS, (int) (root.pos / ErofsInode.SLOT_SIZE), entryCount, deviceBlocks,
                metaAddr / BLOCK, nblobs, RafsV6Device.TABLE_OFFSET / RafsV6Device.SIZE).write(b);
        new RafsV6SuperBlockExt(flags, blobTableOffset, (int) blobTableSize, spec.chunkSize(), chunkTableOffset,
                chunkTableSize, prefetch.isEmpty() ? 0 : prefetchOffset, (int) prefetchSize).write(b);
        int p = (int) prefetchOffset;
        for (TreeEntry e : prefetch) {
            b.putInt(p, (int) (slots.get(e.inode()).pos / ErofsInode.SLOT_SIZE));
            p += 4;
        }

        for (Slot s : unique) {
            writeInode(spec, s, slots, b, metaAddr);
        }
        out.write(b.array(), 0, b.limit());
        writeChunkTable(chunkTable, out);
        long written = chunkTableOffset + chunkTableSize;
        out.write(new byte[(int) (total - written)]);
        return total;
    }

    private static void writeInode(BootstrapSpec spec, Slot s, Map<TreeInode, Slot> slots, ByteBuffer b, long metaAddr) {
        TreeInode in = s.inode;
        int pos = (int) (metaAddr + s.pos);
        int iu;
        long size;
        if (in.isReg()) {
            size = in.size;
            iu = ErofsInode.CHUNK_FORMAT_INDEXES | (chunkBits(spec.chunkSize(), in) - BLOCK_BITS);
        } else if (in.isDir() || in.isSymlink()) {
            size = s.dataSize;
            iu = (int) s.dataBlkaddr;
        } else {
            size = 0;
            iu = FileMode.isChr(in.mode) || FileMode.isBlk(in.mode) ? (int) in.rdev : 0;
        }
        long uid = spec.explicitUidGid() ? in.uid : 0;
        long gid = spec.explicitUidGid() ? in.gid : 0;
        new ErofsInode(s.extended, s.layout, ErofsXattrs.icount(s.xattrs.length), in.mode, s.nlink, size, iu,
                s.index, uid, gid, in.mtime, in.mtimeNsec).write(b, pos);
        int head = pos + s.headSize();
        b.put(pos + (s.extended ? ErofsInode.EXTENDED_SIZE : ErofsInode.COMPACT_SIZE), s.xattrs);
        if (in.isReg()) {
            int q = align(head, ErofsInode.CHUNK_INDEX_SIZE);
            for (ChunkInfo c : in.chunks) {
                b.putShort(q, (short) (c.index() & 0xFFFF));
                b.putShort(q + 2, (short) (((c.blobIndex() + 1) & 0xFF) | (((c.index() >>> 16) & 0xFF) << 8)));
                b.putInt(q + 4, (int) (c.uncompressedOffset() / BLOCK));
                q += ErofsInode.CHUNK_INDEX_SIZE;
            }
            return;
        }
        byte[] data = in.isDir() ? dirData(s, slots) : s.data;
        if (data == null) {
            return;
        }
        int full = s.fullBlocks * BLOCK;
        if (s.layout == ErofsInode.LAYOUT_FLAT_INLINE) {
            b.put((int) (s.dataBlkaddr * BLOCK), data, 0, full);
            b.put(head, data, full, data.length - full);
        } else if (data.length > 0) {
            b.put((int) (s.dataBlkaddr * BLOCK), data, 0, data.length);
        }
    }

    /**
     * Chunk bits advertised to the kernel. When a multi-chunk file's chunks are contiguous in one blob, upstream
     * advertises next_power_of_two(size) so the kernel maps the file with one index (notes §2.8).
     */
    private static int chunkBits(int chunkSize, TreeInode in) {
        List<ChunkInfo> cs = in.chunks;
        int bits = Integer.numberOfTrailingZeros(chunkSize);
        if (cs.size() > 1) {
            for (int i = 1; i < cs.size(); i++) {
                ChunkInfo prev = cs.get(i - 1);
                ChunkInfo c = cs.get(i);
                if (c.blobIndex() != prev.blobIndex() || c.uncompressedOffset() != prev.uncompressedOffset() + chunkSize) {
                    return bits;
                }
            }
            long p = Long.highestOneBit(in.size - 1) << 1;
            return Math.min(Long.numberOfTrailingZeros(p), BLOCK_BITS + ErofsInode.CHUNK_FORMAT_BLKBITS_MASK);
        }
        return bits;
    }

    private static List<Dirent> dirents(TreeEntry dir) {
        List<Dirent> list = new ArrayList<>();
        TreeInode self = dir.inode();
        TreeInode parent = dir.parent() == null ? self : dir.parent().inode();
        list.add(new Dirent(new byte[] {'.'}, self, 2));
        list.add(new Dirent(new byte[] {'.', '.'}, parent, 2));
        for (TreeEntry c : dir.children()) {
            list.add(new Dirent(c.name(), c.inode(), FileMode.direntType(c.inode().mode)));
        }
        list.sort((x, y) -> Arrays.compareUnsigned(x.name, y.name));
        return list;
    }

    /** Byte size of a directory: full blocks plus the used part of the last block. */
    private static int dirSize(List<Dirent> ds) {
        long size = 0;
        int used = 0;
        for (Dirent d : ds) {
            int need = ErofsDirent.SIZE + d.name.length;
            if (used + need > BLOCK) {
                size += BLOCK;
                used = 0;
            }
            used += need;
        }
        size += used;
        if (size > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("directory too large");
        }
        return (int) size;
    }

    private static byte[] dirData(Slot s, Map<TreeInode, Slot> slots) {
        byte[] out = new byte[s.dataSize];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        List<Dirent> ds = s.dirents;
        int i = 0;
        int blockStart = 0;
        while (i < ds.size()) {
            int used = 0;
            int j = i;
            while (j < ds.size() && used + ErofsDirent.SIZE + ds.get(j).name.length <= BLOCK) {
                used += ErofsDirent.SIZE + ds.get(j).name.length;
                j++;
            }
            int nameOff = ErofsDirent.SIZE * (j - i);
            for (int k = i; k < j; k++) {
                Dirent d = ds.get(k);
                int at = blockStart + ErofsDirent.SIZE * (k - i);
                b.putLong(at, slots.get(d.target).pos / ErofsInode.SLOT_SIZE);
                b.putShort(at + 8, (short) nameOff);
                b.put(at + 10, (byte) d.type);
                System.arraycopy(d.name, 0, out, blockStart + nameOff, d.name.length);
                nameOff += d.name.length;
            }
            i = j;
            blockStart += BLOCK;
        }
        s.dirents = null;
        return out;
    }

    /** Unique chunks keyed by (digest, blob index), sorted by that key, first occurrence kept. */
    private static List<ChunkInfo> chunkTable(List<Slot> unique) {
        TreeMap<byte[], ChunkInfo> m = new TreeMap<>(Arrays::compareUnsigned);
        for (Slot s : unique) {
            if (!s.inode.isReg()) {
                continue;
            }
            for (ChunkInfo c : s.inode.chunks) {
                byte[] key = Arrays.copyOf(c.digest(), 36);
                ByteBuffer.wrap(key, 32, 4).putInt(c.blobIndex() + 1);
                m.putIfAbsent(key, c);
            }
        }
        return new ArrayList<>(m.values());
    }

    private static void writeChunkTable(List<ChunkInfo> table, OutputStream out) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(ChunkRecord.SIZE * 1024).order(ByteOrder.LITTLE_ENDIAN);
        for (ChunkInfo c : table) {
            if (!buf.hasRemaining()) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            ChunkRecord.write(c, buf);
        }
        out.write(buf.array(), 0, buf.position());
    }

    static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    static int align(int v, int a) {
        return (v + a - 1) / a * a;
    }
}
