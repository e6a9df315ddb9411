package io.nydus.daemon;

import jnr.ffi.Pointer;

/**
 * Byte offsets of {@code struct stat} and {@code struct statvfs} on the 64-bit Linux ABIs the daemon runs on.
 * The FUSE callbacks write attributes straight into libfuse's buffers: wrapping each buffer in jnr-fuse's
 * {@code FileStat} would build a 25-field struct object per {@code getattr}, which dominates a metadata walk.
 */
final class StatLayout {
    /** Offset of {@code fh} in {@code struct fuse_file_info} (libfuse 2.9, LP64). */
    static final int FI_FH = 24;

    final int size;
    final int ino;
    final int nlink;
    final boolean nlink64;
    final int mode;
    final int uid;
    final int gid;
    final int rdev;
    final int fsize;
    final int blksize;
    final boolean blksize64;
    final int blocks;
    final int atime;
    final int mtime;
    final int ctime;

    private StatLayout(int size, int ino, int nlink, boolean nlink64, int mode, int uid, int gid, int rdev, int fsize,
            int blksize, boolean blksize64, int blocks, int atime, int mtime, int ctime) {
        this.size = size;
        this.ino = ino;
        this.nlink = nlink;
        this.nlink64 = nlink64;
        this.mode = mode;
        this.uid = uid;
        this.gid = gid;
        this.rdev = rdev;
        this.fsize = fsize;
        this.blksize = blksize;
        this.blksize64 = blksize64;
        this.blocks = blocks;
        this.atime = atime;
        this.mtime = mtime;
        this.ctime = ctime;
    }

    /** x86_64: dev 0, ino 8, nlink 16 (u64), mode 24, uid 28, gid 32, rdev 40, size 48, blksize 56 (i64), blocks 64, times 72/88/104. */
    private static final StatLayout X86_64 = new StatLayout(144, 8, 16, true, 24, 28, 32, 40, 48, 56, true, 64, 72, 88,
            104);
    /** aarch64 (asm-generic): dev 0, ino 8, mode 16, nlink 20 (u32), uid 24, gid 28, rdev 32, size 48, blksize 56 (i32), blocks 64. */
    private static final StatLayout GENERIC64 = new StatLayout(128, 8, 20, false, 16, 24, 28, 32, 48, 56, false, 64, 72,
            88, 104);

    /** statvfs (LP64 glibc): bsize 0, frsize 8, blocks 16, bfree 24, bavail 32, files 40, ffree 48, favail 56, fsid 64, flag 72, namemax 80. */
    static final int VFS_BSIZE = 0;
    static final int VFS_FRSIZE = 8;
    static final int VFS_BLOCKS = 16;
    static final int VFS_BFREE = 24;
    static final int VFS_BAVAIL = 32;
    static final int VFS_FILES = 40;
    static final int VFS_FFREE = 48;
    static final int VFS_FAVAIL = 56;
    static final int VFS_FLAG = 72;
    static final int VFS_NAMEMAX = 80;
    static final int VFS_SIZE = 112;

    static StatLayout current() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "riscv64", "loongarch64" -> GENERIC64;
            default -> throw new IllegalStateException("unsupported CPU architecture " + arch
                    + " (struct stat layout known for x86_64 and aarch64)");
        };
    }

    /** Writes a whole {@code struct stat}. */
    void write(Pointer st, long stIno, int stMode, long nlinkValue, long uidValue, long gidValue, long rdevValue,
            long sizeValue, long blocksValue, long mtimeSec, int mtimeNsec) {
        st.setMemory(0, size, (byte) 0);
        st.putLong(ino, stIno);
        if (nlink64) {
            st.putLong(nlink, nlinkValue);
        } else {
            st.putInt(nlink, (int) nlinkValue);
        }
        st.putInt(mode, stMode);
        st.putInt(uid, (int) uidValue);
        st.putInt(gid, (int) gidValue);
        st.putLong(rdev, rdevValue);
        st.putLong(fsize, sizeValue);
        if (blksize64) {
            st.putLong(blksize, RafsImage.BLOCK_SIZE);
        } else {
            st.putInt(blksize, RafsImage.BLOCK_SIZE);
        }
        st.putLong(blocks, blocksValue);
        // Images record one time: atime and ctime report mtime, as upstream does.
        st.putLong(atime, mtimeSec);
        st.putLong(atime + 8, mtimeNsec);
        st.putLong(mtime, mtimeSec);
        st.putLong(mtime + 8, mtimeNsec);
        st.putLong(ctime, mtimeSec);
        st.putLong(ctime + 8, mtimeNsec);
    }

    /** Writes only what {@code readdir} needs: inode number and file type. */
    void writeDirent(Pointer st, long stIno, int stMode) {
        st.putLong(ino, stIno);
        st.putInt(mode, stMode);
    }
}
