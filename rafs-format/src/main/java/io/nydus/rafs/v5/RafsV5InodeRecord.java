package io.nydus.rafs.v5;

import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;

/**
 * {@code RafsV5Inode}: a 128-byte inode record, followed by its name (padded to 8), symlink target (padded to 8),
 * xattrs (when XATTR is set) and, for regular files, {@code i_child_count} 80-byte chunk records.
 *
 * <pre>
 * off size field
 *   0   32 i_digest       Merkle digest (chunks, target, or children)
 *  32    8 i_parent       i_ino of the parent directory (0 for the root)
 *  40    8 i_ino          own index; hard links carry the first link's index
 *  48    4 i_uid
 *  52    4 i_gid
 *  56    4 i_projid       0
 *  60    4 i_mode
 *  64    8 i_size
 *  72    8 i_blocks
 *  80    8 i_flags        SYMLINK 0x1, HARDLINK 0x2, XATTR 0x4, HAS_HOLE 0x8
 *  88    4 i_nlink
 *  92    4 i_child_index  directories: index of the first child
 *  96    4 i_child_count  directories: children; regular files: chunks
 * 100    2 i_name_size
 * 102    2 i_symlink_size
 * 104    4 i_rdev
 * 108    4 i_mtime_nsec
 * 112    8 i_mtime
 * 120    8 reserved
 * </pre>
 */
public record RafsV5InodeRecord(byte[] digest, long parent, long ino, long uid, long gid, int mode, long size,
        long blocks, long flags, long nlink, long childIndex, long childCount, int nameSize, int symlinkSize,
        long rdev, int mtimeNsec, long mtime) {

    public static final int SIZE = 128;
    public static final long FLAG_SYMLINK = 0x1;
    public static final long FLAG_HARDLINK = 0x2;
    public static final long FLAG_XATTR = 0x4;
    public static final long FLAG_HAS_HOLE = 0x8;

    public void write(ByteBuffer b, int pos) {
        b.put(pos, digest);
        b.putLong(pos + 32, parent);
        b.putLong(pos + 40, ino);
        b.putInt(pos + 48, (int) uid);
        b.putInt(pos + 52, (int) gid);
        b.putInt(pos + 60, mode);
        b.putLong(pos + 64, size);
        b.putLong(pos + 72, blocks);
        b.putLong(pos + 80, flags);
        b.putInt(pos + 88, (int) nlink);
        b.putInt(pos + 92, (int) childIndex);
        b.putInt(pos + 96, (int) childCount);
        b.putShort(pos + 100, (short) nameSize);
        b.putShort(pos + 102, (short) symlinkSize);
        b.putInt(pos + 104, (int) rdev);
        b.putInt(pos + 108, mtimeNsec);
        b.putLong(pos + 112, mtime);
    }

    /**
     * Decodes a record of the pre-1.0 layout found in old images: {@code i_mode} at 52, {@code i_size} at 56,
     * {@code i_nlink} (u64) at 64, {@code i_blocks} at 72, {@code i_flags} at 80, child index/count at 88/92,
     * name and symlink sizes (already padded to 8, contents NUL padded) at 96/98; no owner, rdev or mtime.
     */
    public static RafsV5InodeRecord readLegacy(ByteBuffer b, int pos) {
        RafsFormatException.require(pos >= 0 && (long) pos + SIZE <= b.limit(), "v5 inode record at %d outside the bootstrap", pos);
        byte[] digest = new byte[32];
        b.get(pos, digest);
        long size = b.getLong(pos + 56);
        long nlink = b.getLong(pos + 64);
        RafsFormatException.require(size >= 0 && nlink >= 0 && nlink <= 0xFFFF_FFFFL, "legacy v5 inode at %d: bad size or nlink", pos);
        return new RafsV5InodeRecord(digest, b.getLong(pos + 32), b.getLong(pos + 40), 0, 0, b.getInt(pos + 52), size,
                b.getLong(pos + 72), b.getLong(pos + 80), nlink, b.getInt(pos + 88) & 0xFFFF_FFFFL,
                b.getInt(pos + 92) & 0xFFFF_FFFFL, b.getShort(pos + 96) & 0xFFFF, b.getShort(pos + 98) & 0xFFFF, 0, 0, 0);
    }

    /** Whether the record at {@code pos} (the root) uses the pre-1.0 layout. */
    public static boolean isLegacyRoot(ByteBuffer b, int pos) {
        if ((long) pos + SIZE > b.limit()) {
            return false;
        }
        int current = b.getInt(pos + 60);
        int legacy = b.getInt(pos + 52);
        return (current & 0170000) == 0 && (legacy & 0170000) == 0040000;
    }

    public static RafsV5InodeRecord read(ByteBuffer b, int pos) {
        RafsFormatException.require(pos >= 0 && (long) pos + SIZE <= b.limit(), "v5 inode record at %d outside the bootstrap", pos);
        byte[] digest = new byte[32];
        b.get(pos, digest);
        long size = b.getLong(pos + 64);
        RafsFormatException.require(size >= 0, "v5 inode at %d: negative size", pos);
        int nsec = b.getInt(pos + 108);
        return new RafsV5InodeRecord(digest, b.getLong(pos + 32), b.getLong(pos + 40), b.getInt(pos + 48) & 0xFFFF_FFFFL,
                b.getInt(pos + 52) & 0xFFFF_FFFFL, b.getInt(pos + 60), size, b.getLong(pos + 72), b.getLong(pos + 80),
                b.getInt(pos + 88) & 0xFFFF_FFFFL, b.getInt(pos + 92) & 0xFFFF_FFFFL, b.getInt(pos + 96) & 0xFFFF_FFFFL,
                b.getShort(pos + 100) & 0xFFFF, b.getShort(pos + 102) & 0xFFFF, b.getInt(pos + 104) & 0xFFFF_FFFFL,
                nsec, b.getLong(pos + 112));
    }
}
