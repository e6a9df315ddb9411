package io.nydus.daemon;

/**
 * The FUSE wire protocol (Linux {@code include/uapi/linux/fuse.h}, 7.23 and later) as far as a read-only
 * filesystem speaks it: opcodes, flags and the byte offsets of the structures read from and written to
 * {@code /dev/fuse}. All fields are little-endian on the machines the daemon runs on.
 *
 * <pre>
 * fuse_in_header (40)                fuse_out_header (16)
 * | off | size | field        |      | off | size | field   |
 * |   0 |    4 | len          |      |   0 |    4 | len     |
 * |   4 |    4 | opcode       |      |   4 |    4 | error   |  (0 or a negative errno; a notification's code)
 * |   8 |    8 | unique       |      |   8 |    8 | unique  |  (0 for a notification)
 * |  16 |    8 | nodeid       |
 * |  24 |   12 | uid, gid, pid|
 * |  36 |    4 | extlen, pad  |
 *
 * fuse_attr (88)                                  fuse_entry_out (128)
 * |  0 | 8 | ino     |  48 | 4 | atimensec |      |  0 | 8 | nodeid            |
 * |  8 | 8 | size    |  52 | 4 | mtimensec |      |  8 | 8 | generation        |
 * | 16 | 8 | blocks  |  56 | 4 | ctimensec |      | 16 | 8 | entry_valid (s)   |
 * | 24 | 8 | atime   |  60 | 4 | mode      |      | 24 | 8 | attr_valid (s)    |
 * | 32 | 8 | mtime   |  64 | 4 | nlink     |      | 32 | 8 | *_valid_nsec (0)  |
 * | 40 | 8 | ctime   |  68 | 4 | uid       |      | 40 |88 | fuse_attr         |
 * |    |   |         |  72 | 4 | gid       |
 * |    |   |         |  76 | 4 | rdev      |      fuse_attr_out (104): attr_valid u64, nsec u32, pad u32, fuse_attr
 * |    |   |         |  80 | 4 | blksize   |
 * |    |   |         |  84 | 4 | flags     |
 *
 * fuse_dirent (24 + name, padded to 8): ino u64, off u64 (the cookie of the next entry), namelen u32, type u32
 * fuse_direntplus: fuse_entry_out (128) then fuse_dirent
 * fuse_read_in (40): fh u64, offset u64, size u32, read_flags u32, lock_owner u64, flags u32, pad u32
 * fuse_open_in (8): flags u32, open_flags u32          fuse_open_out (16): fh u64, open_flags u32, pad u32
 * fuse_getxattr_in (8): size u32, pad u32, then the name (NUL-terminated)   fuse_getxattr_out (8): size u32, pad
 * fuse_kstatfs (80): blocks, bfree, bavail, files, ffree u64; bsize, namelen, frsize u32; pad, spare[6]
 * fuse_init_in: major, minor, max_readahead, flags u32 (then flags2 from 7.36)
 * fuse_init_out (64): major, minor, max_readahead, flags u32; max_background, congestion_threshold u16;
 *                     max_write, time_gran u32; max_pages, map_alignment u16; flags2 u32; unused
 * </pre>
 */
final class FuseProtocol {
    static final int KERNEL_VERSION = 7;
    /** The newest minor version whose structures this class describes. */
    static final int KERNEL_MINOR_VERSION = 38;
    /** The oldest minor accepted: 64-byte init_out, 88-byte fuse_attr. */
    static final int MIN_MINOR_VERSION = 23;
    /** The kernel refuses reads of /dev/fuse into smaller buffers. */
    static final int MIN_READ_BUFFER = 8192;
    static final long ROOT_ID = 1;

    // Opcodes.
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int READLINK = 5;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int GETXATTR = 22;
    static final int LISTXATTR = 23;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int ACCESS = 34;
    static final int INTERRUPT = 36;
    static final int DESTROY = 38;
    static final int BATCH_FORGET = 42;
    static final int READDIRPLUS = 44;

    // Notification codes (the error field of a message with unique 0).
    static final int NOTIFY_INVAL_INODE = 2;
    static final int NOTIFY_INVAL_ENTRY = 3;
    /** Linux 6.9+: requests read but not answered go back to the queue (their unique gets bit 63). */
    static final int NOTIFY_RESEND = 7;

    // INIT flags.
    static final int ASYNC_READ = 1;
    static final int DO_READDIRPLUS = 1 << 13;
    static final int PARALLEL_DIROPS = 1 << 18;
    static final int MAX_PAGES = 1 << 22;
    static final int CACHE_SYMLINKS = 1 << 23;
    static final int NO_OPENDIR_SUPPORT = 1 << 24;

    // open_flags of an open reply.
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_CACHE_DIR = 1 << 3;

    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    static final int ATTR = 88;
    static final int ENTRY_OUT = 40 + ATTR;
    static final int ATTR_OUT = 16 + ATTR;
    static final int DIRENT = 24;
    static final int INIT_OUT = 64;
    static final int OPEN_OUT = 16;
    static final int KSTATFS = 80;

    // fuse_in_header fields.
    static final int IN_LEN = 0;
    static final int IN_OPCODE = 4;
    static final int IN_UNIQUE = 8;
    static final int IN_NODEID = 16;

    private FuseProtocol() {
    }

    /** Linux errno values (the same on x86_64 and aarch64). */
    static final class Errno {
        static final int ENOENT = 2;
        static final int EIO = 5;
        static final int EAGAIN = 11;
        static final int EINTR = 4;
        static final int ENODEV = 19;
        static final int ENOTDIR = 20;
        static final int EISDIR = 21;
        static final int EINVAL = 22;
        static final int EROFS = 30;
        static final int ERANGE = 34;
        static final int ENOSYS = 38;
        static final int ENODATA = 61;
        static final int EPROTO = 71;
        static final int EOPNOTSUPP = 95;
        static final int ESTALE = 116;

        private Errno() {
        }
    }

    /** The kernel's {@code new_encode_dev}: the 32-bit device number of {@code fuse_attr.rdev}. */
    static int encodeDev(int major, int minor) {
        return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
    }
}
