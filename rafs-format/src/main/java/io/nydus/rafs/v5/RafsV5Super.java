package io.nydus.rafs.v5;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
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

/** Reader of RAFS v5 bootstraps; see {@link RafsV5Writer} for the layout. Inode numbers are inode indexes. */
public final class RafsV5Super extends RafsSuper {
    private final RafsV5SuperBlock sb;
    private final int entries;
    private final int tableOffset;
    /** Pre-1.0 inode records (see {@link RafsV5InodeRecord#readLegacy}). */
    private final boolean legacy;

    public RafsV5Super(ByteBuffer b) {
        super(b);
        this.sb = RafsV5SuperBlock.read(b);
        long size = b.limit();
        this.entries = sb.inodeTableEntries();
        RafsFormatException.require(entries > 0, "v5 superblock: no inodes");
        this.tableOffset = (int) sb.inodeTableOffset();
        long tableEnd = checkRange("inode table", sb.inodeTableOffset(), 4L * entries, size);
        RafsFormatException.require(sb.inodeTableOffset() >= RafsV5SuperBlock.SIZE, "v5 inode table overlaps the superblock");
        long pfEnd = checkRange("prefetch table", sb.prefetchTableOffset(), 4L * sb.prefetchTableEntries(), size);
        long btEnd = checkRange("blob table", sb.blobTableOffset(), sb.blobTableSize() & 0xFFFF_FFFFL, size);
        long extEnd = checkRange("extended blob table", sb.extBlobTableOffset(),
                (long) RafsV5BlobTable.EXT_ENTRY_SIZE * sb.extBlobTableEntries(), size);
        checkDisjoint(new long[][] {{sb.inodeTableOffset(), tableEnd}, {sb.prefetchTableOffset(), pfEnd},
            {sb.blobTableOffset(), btEnd}, {sb.extBlobTableOffset(), extEnd}});

        List<RafsV5BlobTable.Entry> table = RafsV5BlobTable.decodeTable(b, (int) sb.blobTableOffset(), sb.blobTableSize());
        int ext = sb.extBlobTableEntries();
        RafsFormatException.require(ext == 0 || ext == table.size(),
                "v5: %d extended blob entries for %d blobs", ext, table.size());
        List<BlobInfo> list = new ArrayList<>();
        for (int i = 0; i < table.size(); i++) {
            RafsV5BlobTable.Entry t = table.get(i);
            BlobInfo.Builder bi = BlobInfo.builder().blobId(t.blobId()).index(i).chunkSize(sb.blockSize())
                    .compressor(Compressor.fromSuperFlags(sb.flags())).digester(Digester.fromSuperFlags(sb.flags()))
                    .ciCompressor(Compressor.NONE).prefetchOffset(t.readaheadOffset()).prefetchSize(t.readaheadSize());
            if (ext > 0) {
                int at = (int) sb.extBlobTableOffset() + RafsV5BlobTable.EXT_ENTRY_SIZE * i;
                int count = b.getInt(at);
                int features = b.getInt(at + 4);
                BlobFeatures.checkSupported(features, "v5 extended blob entry " + i);
                long us = b.getLong(at + 8);
                long cs = b.getLong(at + 16);
                RafsFormatException.require(count >= 0 && us >= 0 && cs >= 0, "v5 extended blob entry %d: negative field", i);
                bi.chunkCount(count).features(features).uncompressedSize(us).compressedSize(cs);
            } else {
                bi.features(BlobFeatures.V5_NO_EXT_BLOB_TABLE);
            }
            list.add(bi.build());
        }
        setBlobs(list);
        this.legacy = RafsV5InodeRecord.isLegacyRoot(b, recordPos(1));
        validateTree();
    }

    private static long checkRange(String what, long off, long len, long size) {
        RafsFormatException.require(off >= 0 && len >= 0 && off % 8 == 0 && off + len <= size,
                "v5 %s [%d, +%d) is not 8-aligned inside the bootstrap (%d bytes)", what, off, len, size);
        return off + len;
    }

    private static void checkDisjoint(long[][] ranges) {
        for (int i = 0; i < ranges.length; i++) {
            for (int j = i + 1; j < ranges.length; j++) {
                long[] a = ranges[i];
                long[] c = ranges[j];
                boolean empty = a[0] == a[1] || c[0] == c[1];
                RafsFormatException.require(empty || a[1] <= c[0] || c[1] <= a[0], "v5 tables overlap");
            }
        }
    }

    @Override
    public RafsVersion version() {
        return RafsVersion.V5;
    }

    @Override
    public long flags() {
        return sb.flags();
    }

    @Override
    public int chunkSize() {
        return sb.blockSize();
    }

    public RafsV5SuperBlock superBlock() {
        return sb;
    }

    @Override
    public long rootIno() {
        return 1;
    }

    @Override
    public long inodeCount() {
        return entries;
    }

    private int recordPos(long index) {
        RafsFormatException.require(index >= 1 && index <= entries, "v5 inode index %d out of range 1..%d", index, entries);
        long pos = (buf.getInt(tableOffset + 4 * (int) (index - 1)) & 0xFFFF_FFFFL) << 3;
        RafsFormatException.require(pos >= RafsV5SuperBlock.SIZE && pos + RafsV5InodeRecord.SIZE <= buf.limit(),
                "v5 inode %d: record offset %d outside the bootstrap", index, pos);
        return (int) pos;
    }

    /** The raw record of inode index {@code index}. */
    public RafsV5InodeRecord record(long index) {
        return rec(recordPos(index));
    }

    private RafsV5InodeRecord rec(int pos) {
        return legacy ? RafsV5InodeRecord.readLegacy(buf, pos) : RafsV5InodeRecord.read(buf, pos);
    }

    /** Legacy records pad names and targets with NULs inside their recorded size. */
    private int trimmed(int at, int len) {
        if (legacy) {
            while (len > 0 && buf.get(at + len - 1) == 0) {
                len--;
            }
        }
        return len;
    }

    private int nameOffset(int pos) {
        return pos + RafsV5InodeRecord.SIZE;
    }

    private int symlinkOffset(int pos, RafsV5InodeRecord r) {
        return nameOffset(pos) + align8(r.nameSize());
    }

    private int xattrOffset(int pos, RafsV5InodeRecord r) {
        return symlinkOffset(pos, r) + align8(r.symlinkSize());
    }

    private int chunksOffset(int pos, RafsV5InodeRecord r) {
        int x = xattrOffset(pos, r);
        if ((r.flags() & RafsV5InodeRecord.FLAG_XATTR) != 0) {
            x += RafsV5Xattrs.blockSize(buf, x);
        }
        return x;
    }

    private static int align8(int v) {
        return (v + 7) & ~7;
    }

    private byte[] name(int pos, RafsV5InodeRecord r) {
        RafsFormatException.require(nameOffset(pos) + (long) r.nameSize() <= buf.limit(), "v5 inode at %d: name outside", pos);
        byte[] n = new byte[trimmed(nameOffset(pos), r.nameSize())];
        buf.get(nameOffset(pos), n);
        return n;
    }

    @Override
    public Inode inode(long ino) {
        RafsV5InodeRecord r = record(ino);
        int chunks = 0;
        if (FileMode.isReg(r.mode())) {
            long n = (r.size() + chunkSize() - 1) / chunkSize();
            RafsFormatException.require(n <= Integer.MAX_VALUE, "v5 inode %d: size %d", ino, r.size());
            chunks = (int) n;
        }
        return new Inode(r.ino(), r.mode(), r.uid(), r.gid(), r.nlink(), r.size(), r.rdev(), r.mtime(), r.mtimeNsec(),
                r.blocks(), (r.flags() & RafsV5InodeRecord.FLAG_XATTR) != 0, chunks);
    }

    @Override
    public byte[] inodeDigest(long ino) {
        return record(ino).digest();
    }

    private RafsV5InodeRecord dir(long ino) {
        RafsV5InodeRecord r = record(ino);
        RafsFormatException.require(FileMode.isDir(r.mode()), "v5 inode %d is not a directory", ino);
        return r;
    }

    @Override
    public long lookup(long dirIno, byte[] name) {
        RafsV5InodeRecord d = dir(dirIno);
        long lo = d.childIndex();
        long hi = d.childIndex() + d.childCount() - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            int pos = recordPos(mid);
            RafsV5InodeRecord r = rec(pos);
            int c = Arrays.compareUnsigned(name(pos, r), name);
            if (c == 0) {
                return r.ino();
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -1;
    }

    @Override
    public void readdir(long dirIno, long cookie, DirentSink sink) {
        RafsV5InodeRecord d = dir(dirIno);
        for (long i = cookie; i < d.childCount(); i++) {
            int pos = recordPos(d.childIndex() + i);
            RafsV5InodeRecord r = rec(pos);
            if (!sink.accept(name(pos, r), r.ino(), r.mode(), i + 1)) {
                return;
            }
        }
    }

    @Override
    public byte[] readlink(long ino) {
        int pos = recordPos(ino);
        RafsV5InodeRecord r = rec(pos);
        RafsFormatException.require(FileMode.isSymlink(r.mode()), "v5 inode %d is not a symlink", ino);
        int at = symlinkOffset(pos, r);
        RafsFormatException.require(at + (long) r.symlinkSize() <= buf.limit(), "v5 inode %d: symlink outside", ino);
        byte[] t = new byte[trimmed(at, r.symlinkSize())];
        buf.get(at, t);
        return t;
    }

    @Override
    public Xattrs xattrs(long ino) {
        int pos = recordPos(ino);
        RafsV5InodeRecord r = rec(pos);
        if ((r.flags() & RafsV5InodeRecord.FLAG_XATTR) == 0) {
            return Xattrs.EMPTY;
        }
        return RafsV5Xattrs.decode(buf, xattrOffset(pos, r));
    }

    @Override
    public ChunkInfo chunk(long ino, int index) {
        int pos = recordPos(ino);
        RafsV5InodeRecord r = rec(pos);
        RafsFormatException.require(FileMode.isReg(r.mode()), "v5 inode %d is not a regular file", ino);
        long count = (r.size() + chunkSize() - 1) / chunkSize();
        RafsFormatException.require(index >= 0 && index < count, "v5 inode %d: chunk %d of %d", ino, index, count);
        int base = chunksOffset(pos, r);
        long fileOffset = (long) index * chunkSize();
        int expected = (int) Math.min(chunkSize(), r.size() - fileOffset);
        ChunkInfo c;
        if ((r.flags() & RafsV5InodeRecord.FLAG_HAS_HOLE) != 0) {
            c = null;
            for (long i = 0; i < r.childCount(); i++) {
                ChunkInfo x = ChunkRecord.read(buf, (int) (base + ChunkRecord.SIZE * i));
                if (x.fileOffset() == fileOffset) {
                    c = x;
                    break;
                }
            }
            if (c == null) {
                return ChunkInfo.hole(fileOffset, expected);
            }
        } else {
            RafsFormatException.require(index < r.childCount(), "v5 inode %d: %d chunks for %d bytes", ino,
                    r.childCount(), r.size());
            c = ChunkRecord.read(buf, base + ChunkRecord.SIZE * index);
        }
        RafsFormatException.require(c.blobIndex() >= 0 && c.blobIndex() < blobs().size(),
                "v5 inode %d: chunk %d refers to blob %d of %d", ino, index, c.blobIndex(), blobs().size());
        RafsFormatException.require(c.fileOffset() == fileOffset && c.uncompressedSize() == expected,
                "v5 inode %d: chunk %d has file offset %d and size %d, expected %d and %d", ino, index, c.fileOffset(),
                c.uncompressedSize(), fileOffset, expected);
        return c;
    }

    @Override
    public long[] prefetchInodes() {
        long[] out = new long[sb.prefetchTableEntries()];
        for (int i = 0; i < out.length; i++) {
            out[i] = buf.getInt((int) sb.prefetchTableOffset() + 4 * i) & 0xFFFF_FFFFL;
        }
        return out;
    }

    /**
     * Checks every record reachable from the root: bounds of names, targets, xattrs and chunk lists, child ranges
     * inside the inode table, and that no index is reached twice (which would be a loop).
     */
    private void validateTree() {
        BitSet seen = new BitSet(entries + 1);
        long[] stack = new long[64];
        int top = 0;
        stack[top++] = 1;
        seen.set(1);
        RafsFormatException.require(FileMode.isDir(record(1).mode()), "v5 root inode is not a directory");
        while (top > 0) {
            long idx = stack[--top];
            int pos = recordPos(idx);
            RafsV5InodeRecord r = rec(pos);
            name(pos, r);
            long end = chunksOffset(pos, r);
            int type = r.mode() & FileMode.S_IFMT;
            if (type == FileMode.S_IFREG) {
                end += ChunkRecord.SIZE * r.childCount();
            } else if (type == FileMode.S_IFLNK) {
                RafsFormatException.require(r.symlinkSize() > 0, "v5 inode %d: empty symlink", idx);
            } else if (type != FileMode.S_IFDIR) {
                RafsFormatException.require(FileMode.isSpecial(r.mode()), "v5 inode %d: unknown file type 0%o", idx, r.mode());
            }
            RafsFormatException.require(end <= buf.limit(), "v5 inode %d: record runs past the bootstrap", idx);
            RafsFormatException.require(r.ino() >= 1 && r.ino() <= entries, "v5 inode %d: i_ino %d out of range", idx, r.ino());
            if ((r.flags() & RafsV5InodeRecord.FLAG_XATTR) != 0) {
                RafsV5Xattrs.decode(buf, xattrOffset(pos, r));
            }
            if (type == FileMode.S_IFDIR) {
                long first = r.childIndex();
                long n = r.childCount();
                RafsFormatException.require(n == 0 || (first > idx && first + n - 1 <= entries),
                        "v5 directory %d: children [%d, +%d) outside the inode table", idx, first, n);
                byte[] prev = null;
                for (long c = first; c < first + n; c++) {
                    RafsFormatException.require(!seen.get((int) c), "v5 inode %d reached twice (loop in the tree)", c);
                    seen.set((int) c);
                    int cpos = recordPos(c);
                    RafsV5InodeRecord cr = rec(cpos);
                    // Readers follow i_ino, so it must not lead anywhere the index walk did not go: a directory is
                    // its own inode, a hard link points at an earlier non-directory of the same type.
                    if (FileMode.isDir(cr.mode())) {
                        RafsFormatException.require(cr.ino() == c, "v5 directory %d has i_ino %d", c, cr.ino());
                    } else if (cr.ino() != c) {
                        RafsFormatException.require(cr.ino() >= 1 && cr.ino() < c, "v5 inode %d: hard link to %d", c, cr.ino());
                        RafsV5InodeRecord target = record(cr.ino());
                        RafsFormatException.require((target.mode() & FileMode.S_IFMT) == (cr.mode() & FileMode.S_IFMT)
                                && target.ino() == cr.ino(), "v5 inode %d: hard link to an inode of another kind", c);
                    }
                    byte[] nm = name(cpos, cr);
                    RafsFormatException.require(nm.length > 0 && (prev == null || Arrays.compareUnsigned(prev, nm) < 0),
                            "v5 directory %d: children not sorted by name", idx);
                    prev = nm;
                    if (top == stack.length) {
                        stack = Arrays.copyOf(stack, stack.length * 2);
                    }
                    stack[top++] = c;
                }
            }
        }
    }
}
