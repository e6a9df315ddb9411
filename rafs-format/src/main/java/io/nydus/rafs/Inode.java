package io.nydus.rafs;

/**
 * The attributes of one inode as a reader decodes them. Short-lived: readers make one per call and keep none.
 *
 * @param ino        the inode number a mount reports ({@code st_ino}); hard links share it
 * @param nlink      link count; directories: 2 + sub-directories
 * @param rdev       device number in glibc {@code dev_t} encoding (0 for non-devices)
 * @param blocks     512-byte blocks ({@code st_blocks})
 * @param chunkCount number of chunks of a regular file (0 for other kinds)
 */
public record Inode(long ino, int mode, long uid, long gid, long nlink, long size, long rdev, long mtime,
        int mtimeNsec, long blocks, boolean hasXattr, int chunkCount) {

    public boolean isDir() {
        return FileMode.isDir(mode);
    }

    public boolean isReg() {
        return FileMode.isReg(mode);
    }

    public boolean isSymlink() {
        return FileMode.isSymlink(mode);
    }
}
