package io.nydus.rafs.v6;

import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;

/**
 * An EROFS on-disk inode, compact (32 bytes) or extended (64 bytes), at {@code meta_addr + nid * 32}.
 *
 * <pre>
 * compact                              extended
 * off size field                       off size field
 *   0    2 i_format                      0    2 i_format
 *   2    2 i_xattr_icount                2    2 i_xattr_icount
 *   4    2 i_mode                        4    2 i_mode
 *   6    2 i_nlink                       6    2 reserved
 *   8    4 i_size                        8    8 i_size
 *  12    4 reserved                     16    4 i_u
 *  16    4 i_u                          20    4 i_ino
 *  20    4 i_ino                        24    4 i_uid
 *  24    2 i_uid                        28    4 i_gid
 *  26    2 i_gid                        32    8 i_mtime
 *  28    4 reserved                     40    4 i_mtime_nsec
 *                                       44    4 i_nlink
 *                                       48   16 reserved
 * </pre>
 * {@code i_format} = bit 0 version (0 compact, 1 extended) | data layout &lt;&lt; 1. {@code i_u}: directories and
 * symlinks: block address of their data; regular files: chunk format; devices: rdev. Compact inodes have no
 * mtime: the kernel shows the superblock build time (0) instead, so they are used only when mtime is 0.
 */
public record ErofsInode(boolean extended, int layout, int xattrIcount, int mode, long nlink, long size, int iu,
        long ino, long uid, long gid, long mtime, int mtimeNsec) {

    public static final int COMPACT_SIZE = 32;
    public static final int EXTENDED_SIZE = 64;
    public static final int SLOT_SIZE = 32;

    public static final int LAYOUT_FLAT_PLAIN = 0;
    public static final int LAYOUT_FLAT_INLINE = 2;
    public static final int LAYOUT_CHUNK_BASED = 4;

    /** {@code i_u} of chunk-based files: EROFS_CHUNK_FORMAT_INDEXES | (log2(chunk size) - block bits). */
    public static final int CHUNK_FORMAT_INDEXES = 0x20;
    public static final int CHUNK_FORMAT_BLKBITS_MASK = 0x1F;
    /** Size of one chunk index entry. */
    public static final int CHUNK_INDEX_SIZE = 8;

    public int inodeSize() {
        return extended ? EXTENDED_SIZE : COMPACT_SIZE;
    }

    /** Bytes taken by the inline xattr area (0 when there are none). */
    public int xattrSize() {
        return xattrSize(xattrIcount);
    }

    public static int xattrSize(int icount) {
        return icount == 0 ? 0 : ErofsXattrs.HEADER_SIZE + (icount - 1) * 4;
    }

    /** Whether a compact inode can hold these attributes without loss. */
    public static boolean fitsCompact(long nlink, long size, long uid, long gid, long mtime, int mtimeNsec) {
        return nlink <= 0xFFFF && size <= 0xFFFF_FFFFL && uid <= 0xFFFF && gid <= 0xFFFF && mtime == 0
                && mtimeNsec == 0;
    }

    public void write(ByteBuffer b, int pos) {
        b.putShort(pos, (short) ((extended ? 1 : 0) | (layout << 1)));
        b.putShort(pos + 2, (short) xattrIcount);
        b.putShort(pos + 4, (short) mode);
        if (extended) {
            b.putLong(pos + 8, size);
            b.putInt(pos + 16, iu);
            b.putInt(pos + 20, (int) ino);
            b.putInt(pos + 24, (int) uid);
            b.putInt(pos + 28, (int) gid);
            b.putLong(pos + 32, mtime);
            b.putInt(pos + 40, mtimeNsec);
            b.putInt(pos + 44, (int) nlink);
        } else {
            b.putShort(pos + 6, (short) nlink);
            b.putInt(pos + 8, (int) size);
            b.putInt(pos + 16, iu);
            b.putInt(pos + 20, (int) ino);
            b.putShort(pos + 24, (short) uid);
            b.putShort(pos + 26, (short) gid);
        }
    }

    /** Decodes the inode at absolute buffer position {@code pos}; {@code limit} bounds the metadata. */
    public static ErofsInode read(ByteBuffer b, int pos, long nid) {
        RafsFormatException.require(pos >= 0 && pos + COMPACT_SIZE <= b.limit(), "inode nid %d: outside the bootstrap", nid);
        int format = b.getShort(pos) & 0xFFFF;
        boolean ext = (format & 1) != 0;
        int layout = (format >> 1) & 0x7;
        RafsFormatException.require((format & ~0xF) == 0, "inode nid %d: unknown i_format 0x%x", nid, format);
        RafsFormatException.require(layout == LAYOUT_FLAT_PLAIN || layout == LAYOUT_FLAT_INLINE
                || layout == LAYOUT_CHUNK_BASED, "inode nid %d: unsupported data layout %d", nid, layout);
        int icount = b.getShort(pos + 2) & 0xFFFF;
        int mode = b.getShort(pos + 4) & 0xFFFF;
        if (ext) {
            RafsFormatException.require(pos + EXTENDED_SIZE <= b.limit(), "inode nid %d: outside the bootstrap", nid);
            long size = b.getLong(pos + 8);
            RafsFormatException.require(size >= 0, "inode nid %d: negative size", nid);
            int nsec = b.getInt(pos + 40);
            RafsFormatException.require(nsec >= 0 && nsec < 1_000_000_000, "inode nid %d: mtime nsec %d", nid, nsec);
            return new ErofsInode(true, layout, icount, mode, b.getInt(pos + 44) & 0xFFFF_FFFFL, size,
                    b.getInt(pos + 16), b.getInt(pos + 20) & 0xFFFF_FFFFL, b.getInt(pos + 24) & 0xFFFF_FFFFL,
                    b.getInt(pos + 28) & 0xFFFF_FFFFL, b.getLong(pos + 32), nsec);
        }
        return new ErofsInode(false, layout, icount, mode, b.getShort(pos + 6) & 0xFFFF, b.getInt(pos + 8) & 0xFFFF_FFFFL,
                b.getInt(pos + 16), b.getInt(pos + 20) & 0xFFFF_FFFFL, b.getShort(pos + 24) & 0xFFFF,
                b.getShort(pos + 26) & 0xFFFF, 0, 0);
    }
}
