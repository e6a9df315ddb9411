package io.nydus.rafs.v6;

/**
 * EROFS directory entry, 12 packed bytes. A directory's data is a sequence of blocks; each block holds a dirent
 * array followed by the names it points at (not NUL terminated; the last name of a block runs to the first NUL or
 * to the end of the block's used bytes). Entries, "." and ".." included, are sorted bytewise by name.
 *
 * <pre>
 * off size field
 *   0    8 nid
 *   8    2 nameoff     offset of the name from the start of the block; first nameoff / 12 = entry count
 *  10    1 file_type   0 unknown, 1 reg, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink
 *  11    1 reserved
 * </pre>
 */
public final class ErofsDirent {
    public static final int SIZE = 12;

    private ErofsDirent() {
    }
}
