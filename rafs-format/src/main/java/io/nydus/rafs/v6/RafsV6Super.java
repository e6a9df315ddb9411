package io.nydus.rafs.v6;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.Xattrs;
import io.nydus.rafs.blob.ChunkRecord;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/** Reader of RAFS v6 bootstraps; see {@link RafsV6Writer} for the layout. */
public final class RafsV6Super extends RafsSuper {
    private static final int NULL_ADDR = 0xFFFF_FFFF;

    private final ErofsSuperBlock sb;
    private final RafsV6SuperBlockExt ext;
    private final int blockSize;
    private final long metaAddr;
    private final long maxNid;
    private final ChunkTableIndex chunkIndex;

    public RafsV6Super(ByteBuffer b) {
        super(b);
        this.sb = ErofsSuperBlock.read(b);
        this.ext = RafsV6SuperBlockExt.read(b);
        this.blockSize = 1 << sb.blkszbits();
        long size = b.limit();
        RafsFormatException.require(size % blockSize == 0, "bootstrap size %d is not a multiple of the block size %d",
                size, blockSize);
        this.metaAddr = sb.metaBlkaddr() * blockSize;
        RafsFormatException.require(metaAddr >= 4096 && metaAddr < size, "meta_blkaddr %d outside the bootstrap",
                sb.metaBlkaddr());
        this.maxNid = (size - metaAddr) / ErofsInode.SLOT_SIZE - 1;

        int nblobs = sb.extraDevices();
        RafsFormatException.require(nblobs < 255, "%d blobs (extra devices), at most 254 supported", nblobs);
        RafsFormatException.require(sb.devtSlotoff() * 128L == RafsV6Device.TABLE_OFFSET || nblobs == 0,
                "device table slot offset %d, expected %d", sb.devtSlotoff(), RafsV6Device.TABLE_OFFSET / 128);
        long bto = ext.blobTableOffset();
        long bts = ext.blobTableSize() & 0xFFFF_FFFFL;
        RafsFormatException.require(bts == (long) RafsV6BlobEntry.SIZE * nblobs,
                "blob table size %d does not match %d devices", bts, nblobs);
        RafsFormatException.require(bto >= RafsV6Device.TABLE_OFFSET + (long) RafsV6Device.SIZE * nblobs
                && bto % 4096 == 0 && bto + bts <= metaAddr, "blob table [%d, +%d) misplaced", bto, bts);
        List<BlobInfo> list = new ArrayList<>(nblobs);
        for (int i = 0; i < nblobs; i++) {
            BlobInfo blob = RafsV6BlobEntry.read(b, (int) bto + RafsV6BlobEntry.SIZE * i, i, ext.chunkSize());
            RafsV6Device dev = RafsV6Device.read(b, RafsV6Device.TABLE_OFFSET + RafsV6Device.SIZE * i);
            RafsFormatException.require(dev.blobId().equals(blob.blobId()),
                    "device slot %d names blob %s, blob table says %s", i, dev.blobId(), blob.blobId());
            list.add(blob);
        }
        setBlobs(list);

        long pto = ext.prefetchTableOffset();
        long pts = ext.prefetchTableSize() & 0xFFFF_FFFFL;
        RafsFormatException.require(pts % 4 == 0 && (pts == 0 || (pto >= bto + bts && pto + pts <= metaAddr)),
                "prefetch table [%d, +%d) misplaced", pto, pts);
        long cto = ext.chunkTableOffset();
        long cts = ext.chunkTableSize();
        RafsFormatException.require(cts % ChunkRecord.SIZE == 0 && cts >= 0
                && (cts == 0 || (cto >= metaAddr && cto % 4096 == 0 && cto + cts <= size)),
                "chunk table [%d, +%d) misplaced", cto, cts);
        this.chunkIndex = new ChunkTableIndex(b, (int) cto, (int) (cts / ChunkRecord.SIZE), nblobs);
        RafsFormatException.require(sb.rootNid() <= maxNid, "root nid %d outside the bootstrap", sb.rootNid());
        validateTree();
    }

    @Override
    public RafsVersion version() {
        return RafsVersion.V6;
    }

    @Override
    public long flags() {
        return ext.flags();
    }

    @Override
    public int chunkSize() {
        return ext.chunkSize();
    }

    @Override
    public long rootIno() {
        return sb.rootNid();
    }

    @Override
    public long inodeCount() {
        return sb.inos();
    }

    public ErofsSuperBlock superBlock() {
        return sb;
    }

    public RafsV6SuperBlockExt extSuperBlock() {
        return ext;
    }

    private int inodePos(long nid) {
        RafsFormatException.require(nid >= 0 && nid <= maxNid, "nid %d outside the bootstrap", nid);
        return (int) (metaAddr + nid * ErofsInode.SLOT_SIZE);
    }

    /** The raw on-disk inode of {@code nid}. */
    public ErofsInode rawInode(long nid) {
        return ErofsInode.read(buf, inodePos(nid), nid);
    }

    @Override
    public Inode inode(long nid) {
        ErofsInode r = rawInode(nid);
        long rdev = 0;
        if (FileMode.isChr(r.mode()) || FileMode.isBlk(r.mode())) {
            rdev = r.iu() & 0xFFFF_FFFFL;
        }
        int chunks = 0;
        if (FileMode.isReg(r.mode())) {
            long n = (r.size() + chunkSize() - 1) / chunkSize();
            RafsFormatException.require(n <= Integer.MAX_VALUE, "inode nid %d: size %d", nid, r.size());
            chunks = (int) n;
        }
        long blocks = (r.size() + 511) / 512;
        return new Inode(nid, r.mode(), r.uid(), r.gid(), r.nlink(), r.size(), rdev, r.mtime(), r.mtimeNsec(), blocks,
                r.xattrIcount() != 0, chunks);
    }

    /** Where block {@code k} of an inode's data lies: {absolute offset, length}. */
    private long[] dataBlock(long nid, ErofsInode r, int pos, long k) {
        long nblocks = (r.size() + blockSize - 1) / blockSize;
        long len = Math.min(blockSize, r.size() - k * blockSize);
        long off;
        if (r.layout() == ErofsInode.LAYOUT_FLAT_INLINE && k == nblocks - 1) {
            off = pos + r.inodeSize() + r.xattrSize();
            RafsFormatException.require((off % blockSize) + len <= blockSize,
                    "inode nid %d: inline data crosses a block boundary", nid);
        } else {
            RafsFormatException.require(r.layout() != ErofsInode.LAYOUT_CHUNK_BASED, "inode nid %d: not flat", nid);
            off = ((r.iu() & 0xFFFF_FFFFL) + k) * blockSize;
        }
        RafsFormatException.require(off + len <= buf.limit(), "inode nid %d: data block %d outside the bootstrap", nid, k);
        return new long[] {off, len};
    }

    private static final class DirBlock {
        final int off;
        final int len;
        final int count;

        DirBlock(int off, int len, int count) {
            this.off = off;
            this.len = len;
            this.count = count;
        }
    }

    private DirBlock dirBlock(long nid, ErofsInode r, int pos, long k) {
        long[] blk = dataBlock(nid, r, pos, k);
        int off = (int) blk[0];
        int len = (int) blk[1];
        RafsFormatException.require(len >= ErofsDirent.SIZE, "directory nid %d: block %d too short", nid, k);
        int first = buf.getShort(off + 8) & 0xFFFF;
        RafsFormatException.require(first % ErofsDirent.SIZE == 0 && first >= ErofsDirent.SIZE && first <= len,
                "directory nid %d: block %d has bad first name offset %d", nid, k, first);
        return new DirBlock(off, len, first / ErofsDirent.SIZE);
    }

    /** Name of entry {@code i} of a dirent block. */
    private byte[] direntName(long nid, DirBlock d, int i) {
        int at = d.off + i * ErofsDirent.SIZE;
        int start = buf.getShort(at + 8) & 0xFFFF;
        int end;
        if (i + 1 < d.count) {
            end = buf.getShort(at + ErofsDirent.SIZE + 8) & 0xFFFF;
        } else {
            end = start;
            while (end < d.len && buf.get(d.off + end) != 0) {
                end++;
            }
        }
        RafsFormatException.require(start >= d.count * ErofsDirent.SIZE && start < end && end <= d.len,
                "directory nid %d: bad name bounds [%d, %d)", nid, start, end);
        byte[] name = new byte[end - start];
        buf.get(d.off + start, name);
        return name;
    }

    private ErofsInode dirInode(long nid) {
        ErofsInode r = rawInode(nid);
        RafsFormatException.require(FileMode.isDir(r.mode()), "inode nid %d is not a directory", nid);
        RafsFormatException.require(r.layout() != ErofsInode.LAYOUT_CHUNK_BASED, "directory nid %d is chunk based", nid);
        return r;
    }

    @Override
    public long lookup(long dirNid, byte[] name) {
        ErofsInode r = dirInode(dirNid);
        int pos = inodePos(dirNid);
        long nblocks = (r.size() + blockSize - 1) / blockSize;
        // Binary search over blocks by their first name, then inside the block.
        long lo = 0;
        long hi = nblocks - 1;
        long candidate = -1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            DirBlock d = dirBlock(dirNid, r, pos, mid);
            int c = Arrays.compareUnsigned(direntName(dirNid, d, 0), name);
            if (c == 0) {
                return buf.getLong(d.off);
            }
            if (c < 0) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (candidate < 0) {
            return -1;
        }
        DirBlock d = dirBlock(dirNid, r, pos, candidate);
        int l = 0;
        int h = d.count - 1;
        while (l <= h) {
            int m = (l + h) >>> 1;
            int c = Arrays.compareUnsigned(direntName(dirNid, d, m), name);
            if (c == 0) {
                return buf.getLong(d.off + m * ErofsDirent.SIZE);
            }
            if (c < 0) {
                l = m + 1;
            } else {
                h = m - 1;
            }
        }
        return -1;
    }

    @Override
    public void readdir(long dirNid, long cookie, DirentSink sink) {
        ErofsInode r = dirInode(dirNid);
        int pos = inodePos(dirNid);
        long nblocks = (r.size() + blockSize - 1) / blockSize;
        long k = cookie >>> 16;
        int i = (int) (cookie & 0xFFFF);
        for (; k < nblocks; k++, i = 0) {
            DirBlock d = dirBlock(dirNid, r, pos, k);
            for (; i < d.count; i++) {
                byte[] name = direntName(dirNid, d, i);
                if ((name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.')) {
                    continue;
                }
                long nid = buf.getLong(d.off + i * ErofsDirent.SIZE);
                long next = i + 1 < d.count ? (k << 16) | (i + 1) : (k + 1) << 16;
                if (!sink.accept(name, nid, rawInode(nid).mode(), next)) {
                    return;
                }
            }
        }
    }

    @Override
    public byte[] readlink(long nid) {
        ErofsInode r = rawInode(nid);
        RafsFormatException.require(FileMode.isSymlink(r.mode()), "inode nid %d is not a symlink", nid);
        RafsFormatException.require(r.size() <= 4096 * 4, "symlink nid %d: target of %d bytes", nid, r.size());
        int pos = inodePos(nid);
        byte[] out = new byte[(int) r.size()];
        long nblocks = (r.size() + blockSize - 1) / blockSize;
        for (long k = 0; k < nblocks; k++) {
            long[] blk = dataBlock(nid, r, pos, k);
            buf.get((int) blk[0], out, (int) (k * blockSize), (int) blk[1]);
        }
        return out;
    }

    @Override
    public Xattrs xattrs(long nid) {
        ErofsInode r = rawInode(nid);
        if (r.xattrIcount() == 0) {
            return Xattrs.EMPTY;
        }
        return ErofsXattrs.decode(buf, inodePos(nid) + r.inodeSize(), r.xattrSize(), nid);
    }

    @Override
    public ChunkInfo chunk(long nid, int index) {
        ErofsInode r = rawInode(nid);
        RafsFormatException.require(FileMode.isReg(r.mode()) && r.layout() == ErofsInode.LAYOUT_CHUNK_BASED,
                "inode nid %d is not a chunk-based regular file", nid);
        long count = (r.size() + chunkSize() - 1) / chunkSize();
        RafsFormatException.require(index >= 0 && index < count, "inode nid %d: chunk %d of %d", nid, index, count);
        int pos = inodePos(nid);
        long at = ((pos + r.inodeSize() + r.xattrSize() + 7L) & ~7L) + (long) index * ErofsInode.CHUNK_INDEX_SIZE;
        RafsFormatException.require(at + ErofsInode.CHUNK_INDEX_SIZE <= buf.limit(),
                "inode nid %d: chunk index %d outside the bootstrap", nid, index);
        int lo = buf.getShort((int) at) & 0xFFFF;
        int hi = buf.getShort((int) at + 2) & 0xFFFF;
        int blkaddr = buf.getInt((int) at + 4);
        RafsFormatException.require(blkaddr != NULL_ADDR, "inode nid %d: chunk %d is a hole (not supported)", nid, index);
        int blobIndex = (hi & 0xFF) - 1;
        int ci = lo | ((hi >>> 8) << 16);
        RafsFormatException.require(blobIndex >= 0 && blobIndex < blobs().size(),
                "inode nid %d: chunk %d refers to blob %d of %d", nid, index, blobIndex, blobs().size());
        BlobInfo blob = blobs().get(blobIndex);
        RafsFormatException.require(ci < blob.chunkCount(), "inode nid %d: chunk %d index %d beyond blob %s (%d chunks)",
                nid, index, ci, blob.blobId(), blob.chunkCount());
        long fileOffset = (long) index * chunkSize();
        int expectedSize = (int) Math.min(chunkSize(), r.size() - fileOffset);
        long uoff = (blkaddr & 0xFFFF_FFFFL) * 4096;
        int slot = chunkIndex.find(blobIndex, ci);
        if (slot < 0) {
            // Not in the chunk table: the blob meta (ci table) must supply the compressed extent.
            return new ChunkInfo(null, blobIndex, 0, -1, 0, uoff, expectedSize, fileOffset, ci, 0);
        }
        ChunkInfo c = chunkIndex.record(slot);
        RafsFormatException.require(c.uncompressedOffset() == uoff && c.uncompressedSize() == expectedSize,
                "inode nid %d: chunk %d (u=%d+%d) disagrees with the chunk table (u=%d+%d)", nid, index, uoff,
                expectedSize, c.uncompressedOffset(), c.uncompressedSize());
        return c.atFileOffset(fileOffset);
    }

    @Override
    public long[] prefetchInodes() {
        int n = ext.prefetchTableSize() / 4;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = buf.getInt((int) ext.prefetchTableOffset() + 4 * i) & 0xFFFF_FFFFL;
        }
        return out;
    }

    /** Walks every reachable inode once and checks its structure; directories reached twice are a loop. */
    private void validateTree() {
        BitSet seenDirs = new BitSet();
        long[] stack = new long[64];
        int top = 0;
        stack[top++] = sb.rootNid();
        seenDirs.set(sb.rootNid());
        checkInode(sb.rootNid());
        RafsFormatException.require(FileMode.isDir(rawInode(sb.rootNid()).mode()), "root nid %d is not a directory",
                sb.rootNid());
        while (top > 0) {
            long dir = stack[--top];
            List<Long> subdirs = new ArrayList<>();
            // readdirAll checks the order of names and passes the entry's own inode mode
            readdirAll(dir, (name, nid, mode, next) -> {
                checkInode(nid);
                if (FileMode.isDir(mode)) {
                    RafsFormatException.require(nid <= Integer.MAX_VALUE && !seenDirs.get((int) nid),
                            "directory nid %d reached twice (loop in the tree)", nid);
                    seenDirs.set((int) nid);
                    subdirs.add(nid);
                }
                return true;
            });
            for (long s : subdirs) {
                if (top == stack.length) {
                    stack = Arrays.copyOf(stack, stack.length * 2);
                }
                stack[top++] = s;
            }
        }
    }

    /** readdir that also passes "." and ".." checks (their presence is not required). */
    private void readdirAll(long dirNid, DirentSink sink) {
        ErofsInode r = dirInode(dirNid);
        int pos = inodePos(dirNid);
        long nblocks = (r.size() + blockSize - 1) / blockSize;
        byte[] prev = null;
        for (long k = 0; k < nblocks; k++) {
            DirBlock d = dirBlock(dirNid, r, pos, k);
            for (int i = 0; i < d.count; i++) {
                byte[] name = direntName(dirNid, d, i);
                RafsFormatException.require(prev == null || Arrays.compareUnsigned(prev, name) < 0,
                        "directory nid %d: entries not sorted", dirNid);
                prev = name;
                if ((name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.')) {
                    continue;
                }
                long nid = buf.getLong(d.off + i * ErofsDirent.SIZE);
                RafsFormatException.require(nid >= 0 && nid <= maxNid, "directory nid %d: entry nid %d out of range",
                        dirNid, nid);
                if (!sink.accept(name, nid, rawInode(nid).mode(), 0)) {
                    return;
                }
            }
        }
    }

    private void checkInode(long nid) {
        ErofsInode r = rawInode(nid);
        int pos = inodePos(nid);
        long headEnd = (long) pos + r.inodeSize() + r.xattrSize();
        RafsFormatException.require(headEnd <= buf.limit(), "inode nid %d: xattrs outside the bootstrap", nid);
        if (r.xattrIcount() != 0) {
            xattrs(nid);
        }
        int type = r.mode() & FileMode.S_IFMT;
        if (type == FileMode.S_IFREG) {
            RafsFormatException.require(r.layout() == ErofsInode.LAYOUT_CHUNK_BASED,
                    "regular file nid %d: layout %d is not chunk based", nid, r.layout());
            long count = (r.size() + chunkSize() - 1) / chunkSize();
            long end = ((headEnd + 7) & ~7L) + count * ErofsInode.CHUNK_INDEX_SIZE;
            RafsFormatException.require(end <= buf.limit(), "inode nid %d: %d chunk indexes outside the bootstrap",
                    nid, count);
        } else if (type == FileMode.S_IFDIR || type == FileMode.S_IFLNK) {
            RafsFormatException.require(r.layout() != ErofsInode.LAYOUT_CHUNK_BASED, "inode nid %d: chunk based", nid);
            long nblocks = (r.size() + blockSize - 1) / blockSize;
            RafsFormatException.require(nblocks <= buf.limit() / blockSize, "inode nid %d: size %d", nid, r.size());
            if (nblocks > 0) {
                dataBlock(nid, r, pos, nblocks - 1);
                if (nblocks > 1 || r.layout() == ErofsInode.LAYOUT_FLAT_PLAIN) {
                    dataBlock(nid, r, pos, 0);
                }
            }
            if (type == FileMode.S_IFLNK) {
                RafsFormatException.require(r.size() > 0 && r.size() <= 4096 * 4, "symlink nid %d: size %d", nid, r.size());
            } else {
                RafsFormatException.require(r.size() > 0, "directory nid %d is empty (no . and ..)", nid);
            }
        } else {
            RafsFormatException.require(type == FileMode.S_IFCHR || type == FileMode.S_IFBLK
                    || type == FileMode.S_IFIFO || type == FileMode.S_IFSOCK, "inode nid %d: unknown file type 0%o",
                    nid, r.mode());
        }
    }

    /** Position of each chunk table record by (blob index, chunk index), in an open-addressing hash table. */
    private static final class ChunkTableIndex {
        private final ByteBuffer buf;
        private final int offset;
        private final long[] keys;
        private final int[] slots;
        private final int mask;

        ChunkTableIndex(ByteBuffer buf, int offset, int count, int nblobs) {
            this.buf = buf;
            this.offset = offset;
            int cap = Integer.highestOneBit(Math.max(4, count * 2 - 1)) << 1;
            this.keys = new long[cap];
            this.slots = new int[cap];
            this.mask = cap - 1;
            Arrays.fill(slots, -1);
            for (int i = 0; i < count; i++) {
                int at = offset + i * ChunkRecord.SIZE;
                int blob = buf.getInt(at + 32);
                int index = buf.getInt(at + 72);
                RafsFormatException.require(blob >= 0 && blob < nblobs,
                        "chunk table entry %d refers to blob %d of %d", i, blob, nblobs);
                long key = ((long) blob << 32) | (index & 0xFFFF_FFFFL);
                int h = hash(key);
                while (slots[h] >= 0 && keys[h] != key) {
                    h = (h + 1) & mask;
                }
                if (slots[h] < 0) {
                    keys[h] = key;
                    slots[h] = i;
                }
            }
        }

        private int hash(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32)) & mask;
        }

        int find(int blob, int index) {
            long key = ((long) blob << 32) | (index & 0xFFFF_FFFFL);
            int h = hash(key);
            while (slots[h] >= 0) {
                if (keys[h] == key) {
                    return slots[h];
                }
                h = (h + 1) & mask;
            }
            return -1;
        }

        ChunkInfo record(int slot) {
            return ChunkRecord.read(buf, offset + slot * ChunkRecord.SIZE);
        }
    }
}
