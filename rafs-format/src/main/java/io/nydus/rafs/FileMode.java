package io.nydus.rafs;

/** POSIX {@code st_mode} bits and the EROFS dirent file types derived from them. */
public final class FileMode {
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    private FileMode() {
    }

    public static boolean isDir(int mode) {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public static boolean isReg(int mode) {
        return (mode & S_IFMT) == S_IFREG;
    }

    public static boolean isSymlink(int mode) {
        return (mode & S_IFMT) == S_IFLNK;
    }

    public static boolean isChr(int mode) {
        return (mode & S_IFMT) == S_IFCHR;
    }

    public static boolean isBlk(int mode) {
        return (mode & S_IFMT) == S_IFBLK;
    }

    /** Character or block device, fifo or socket: files whose only payload is {@code rdev}. */
    public static boolean isSpecial(int mode) {
        int t = mode & S_IFMT;
        return t == S_IFCHR || t == S_IFBLK || t == S_IFIFO || t == S_IFSOCK;
    }

    /** EROFS dirent {@code file_type}: 0 unknown, 1 reg, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink. */
    public static int direntType(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFREG -> 1;
            case S_IFDIR -> 2;
            case S_IFCHR -> 3;
            case S_IFBLK -> 4;
            case S_IFIFO -> 5;
            case S_IFSOCK -> 6;
            case S_IFLNK -> 7;
            default -> 0;
        };
    }

    /** glibc {@code gnu_dev_major} of a {@code dev_t}. */
    public static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    /** glibc {@code gnu_dev_minor} of a {@code dev_t}. */
    public static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }

    /** glibc {@code gnu_dev_makedev}; for numbers below 2^12 / 2^20 this equals the kernel's 32-bit encoding. */
    public static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }
}
