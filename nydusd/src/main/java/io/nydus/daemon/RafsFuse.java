package io.nydus.daemon;

import static io.nydus.daemon.FuseProtocol.ATTR;
import static io.nydus.daemon.FuseProtocol.ATTR_OUT;
import static io.nydus.daemon.FuseProtocol.DIRENT;
import static io.nydus.daemon.FuseProtocol.ENTRY_OUT;
import static io.nydus.daemon.FuseProtocol.IN_HEADER;
import static io.nydus.daemon.FuseProtocol.IN_NODEID;
import static io.nydus.daemon.FuseProtocol.IN_OPCODE;
import static io.nydus.daemon.FuseProtocol.OUT_HEADER;

import io.nydus.daemon.FuseProtocol.Errno;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.Xattrs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The read-only filesystem's answers to FUSE requests, over a {@link Vfs}. {@link FuseSession} reads requests
 * from {@code /dev/fuse} and writes what this class puts in the reply buffer; requests name nodes by the ids
 * {@link Vfs#nodeId} hands out, so nothing is looked up by path.
 *
 * <p>What the kernel is allowed to keep, it keeps: entries, attributes and negative lookups for
 * {@link #CACHE_SECONDS} (the image never changes), file pages across opens, directory listings (no
 * {@code OPENDIR} round trip when the kernel supports that), and symlink targets. Listings carry attributes
 * ({@code READDIRPLUS}), so {@code ls -l} and {@code find} need no lookup per entry.
 */
final class RafsFuse {
    /** Validity of entries and attributes handed to the kernel: as long as it will keep them. */
    static final long CACHE_SECONDS = 1L << 32;
    /** {@link #handle}'s answer to a request that takes no reply (FORGET, INTERRUPT). */
    static final int NO_REPLY = Integer.MIN_VALUE;
    private static final int O_ACCMODE = 3;
    private static final int W_OK = 2;
    private static final int NAME_MAX = 255;
    /** Entries the warm-up visits, from the root down. */
    private static final int WARM_NODES = 2000;
    private static final int WARM_BUFFER = 64 * 1024;

    private final Vfs vfs;
    private final InflightOps inflight;
    private final ErrorThrottle errors = new ErrorThrottle();
    /** Whether the kernel takes "not implemented" for OPENDIR and then caches listings by itself. */
    private volatile boolean noOpendir;
    /** The thread running {@link #warmUp}, whose calls are not counted in the metrics. */
    private volatile Thread warmer;

    RafsFuse(Vfs vfs, InflightOps inflight) {
        this.vfs = vfs;
        this.inflight = inflight;
    }

    Vfs vfs() {
        return vfs;
    }

    /** Set from the kernel's INIT flags. */
    void setNoOpendir(boolean b) {
        noOpendir = b;
    }

    boolean noOpendir() {
        return noOpendir;
    }

    /**
     * Answers the request in {@code in} (header at 0): writes the reply body at {@link FuseProtocol#OUT_HEADER}
     * of {@code out} and returns its length, or returns a negative errno, or {@link #NO_REPLY}. Never throws.
     */
    int handle(ByteBuffer in, ByteBuffer out) {
        int opcode = in.getInt(IN_OPCODE);
        VfsNode n = null;
        long t0 = System.nanoTime();
        InflightOps.Slot slot = inflight.begin(opcode, in.getLong(IN_NODEID));
        try {
            switch (opcode) {
                case FuseProtocol.FORGET, FuseProtocol.BATCH_FORGET, FuseProtocol.INTERRUPT:
                    return NO_REPLY; // node ids carry everything: nothing to forget
                case FuseProtocol.READ:
                    return read(in, out);
                case FuseProtocol.FLUSH:
                    return -Errno.ENOSYS; // nothing to flush; the kernel stops asking
                default:
                    break;
            }
            n = vfs.node(in.getLong(IN_NODEID));
            if (n == null) {
                return -Errno.ESTALE;
            }
            int r = switch (opcode) {
                case FuseProtocol.LOOKUP -> lookup(n, name(in, IN_HEADER), out);
                case FuseProtocol.GETATTR -> getattr(n, out);
                case FuseProtocol.READLINK -> readlink(n, out);
                case FuseProtocol.OPEN -> open(n, in, out);
                case FuseProtocol.STATFS -> statfs(n, out);
                case FuseProtocol.OPENDIR -> opendir(n, out);
                case FuseProtocol.RELEASE -> release(n);
                case FuseProtocol.RELEASEDIR -> 0;
                case FuseProtocol.READDIR -> readdir(n, in, out, false);
                case FuseProtocol.READDIRPLUS -> readdir(n, in, out, true);
                case FuseProtocol.GETXATTR -> getxattr(n, in, out);
                case FuseProtocol.LISTXATTR -> listxattr(n, in, out);
                case FuseProtocol.ACCESS -> (in.getInt(IN_HEADER) & W_OK) != 0 ? -Errno.EROFS : 0;
                default -> -Errno.ENOSYS;
            };
            record(n, opcode, t0, true);
            return r;
        } catch (Throwable t) {
            record(n, opcode, t0, false);
            return fail("request " + opcode, t);
        } finally {
            InflightOps.end(slot);
        }
    }

    // ------------------------------------------------------------------------------------------------- entries

    private int lookup(VfsNode parent, byte[] name, ByteBuffer out) {
        VfsNode child = isDir(parent) ? vfs.child(parent, name) : null;
        if (child == null) {
            // A negative entry (node id 0), cached like a positive one.
            out.put(OUT_HEADER, new byte[ENTRY_OUT]);
            out.putLong(OUT_HEADER + 16, CACHE_SECONDS);
            return ENTRY_OUT;
        }
        return entry(child, out, OUT_HEADER) ? ENTRY_OUT : -Errno.EIO;
    }

    /** Writes a {@code fuse_entry_out} for {@code n} at {@code at}; false when {@code n} has no node id. */
    private boolean entry(VfsNode n, ByteBuffer out, int at) {
        long id = vfs.nodeId(n);
        if (id == 0) {
            errors.warn("inode %d of %s: number too large for a FUSE node id", n.ino(), n.image().mountpoint());
            return false;
        }
        out.putLong(at, id);
        out.putLong(at + 8, 0);
        out.putLong(at + 16, CACHE_SECONDS);
        out.putLong(at + 24, CACHE_SECONDS);
        out.putLong(at + 32, 0);
        attr(n, out, at + 40);
        return true;
    }

    private int getattr(VfsNode n, ByteBuffer out) {
        out.putLong(OUT_HEADER, CACHE_SECONDS);
        out.putLong(OUT_HEADER + 8, 0);
        attr(n, out, OUT_HEADER + 16);
        return ATTR_OUT;
    }

    /** Writes a {@code fuse_attr} at {@code at}. Images record one time: atime and ctime report mtime, as upstream. */
    private void attr(VfsNode n, ByteBuffer out, int at) {
        long ino;
        long size;
        long blocks;
        long secs;
        int nsec;
        int mode;
        long nlink;
        long uid;
        long gid;
        int rdev;
        if (n.isPseudo()) {
            ino = n.reportedIno();
            size = RafsImage.BLOCK_SIZE;
            blocks = RafsImage.BLOCK_SIZE / 512;
            secs = vfs.startSecs();
            nsec = 0;
            mode = FileMode.S_IFDIR | 0755;
            nlink = 2 + n.pseudo().subdirs();
            uid = 0;
            gid = 0;
            rdev = 0;
        } else {
            RafsImage img = n.image();
            Inode in = img.attributes(n.ino());
            ino = img.reportedIno(n.ino());
            size = in.size();
            blocks = in.blocks();
            secs = img.reportedMtime(in);
            nsec = in.mtimeNsec();
            mode = img.reportedMode(in);
            nlink = in.nlink();
            uid = img.reportedUid(in);
            gid = img.reportedGid(in);
            rdev = FuseProtocol.encodeDev((int) FileMode.major(in.rdev()), (int) FileMode.minor(in.rdev()));
        }
        out.putLong(at, ino);
        out.putLong(at + 8, size);
        out.putLong(at + 16, blocks);
        out.putLong(at + 24, secs);
        out.putLong(at + 32, secs);
        out.putLong(at + 40, secs);
        out.putInt(at + 48, nsec);
        out.putInt(at + 52, nsec);
        out.putInt(at + 56, nsec);
        out.putInt(at + 60, mode);
        out.putInt(at + 64, (int) Math.min(nlink, 0xffffffffL));
        out.putInt(at + 68, (int) uid);
        out.putInt(at + 72, (int) gid);
        out.putInt(at + 76, rdev);
        out.putInt(at + 80, RafsImage.BLOCK_SIZE);
        out.putInt(at + 84, 0);
    }

    private int readlink(VfsNode n, ByteBuffer out) {
        if (n.isPseudo() || !FileMode.isSymlink(n.image().attributes(n.ino()).mode())) {
            return -Errno.EINVAL;
        }
        byte[] target = n.image().readlink(n.ino());
        out.put(OUT_HEADER, target);
        return target.length;
    }

    private int statfs(VfsNode n, ByteBuffer out) {
        out.put(OUT_HEADER, new byte[FuseProtocol.KSTATFS]);
        if (!n.isPseudo()) {
            long bytes = n.image().totalBytes();
            out.putLong(OUT_HEADER, (bytes + RafsImage.BLOCK_SIZE - 1) / RafsImage.BLOCK_SIZE);
            out.putLong(OUT_HEADER + 24, n.image().superblock().inodeCount());
        }
        out.putInt(OUT_HEADER + 40, RafsImage.BLOCK_SIZE);
        out.putInt(OUT_HEADER + 44, NAME_MAX);
        out.putInt(OUT_HEADER + 48, RafsImage.BLOCK_SIZE);
        return FuseProtocol.KSTATFS;
    }

    // ------------------------------------------------------------------------------------------------- files

    /**
     * Files need no handle: a READ names its inode, which is all there is to know. So open files survive a
     * takeover by a new daemon, and the kernel's handle values can never name another file.
     */
    private int open(VfsNode n, ByteBuffer in, ByteBuffer out) {
        if ((in.getInt(IN_HEADER) & O_ACCMODE) != 0) {
            return -Errno.EROFS;
        }
        if (isDir(n)) {
            return -Errno.EISDIR;
        }
        n.image().metrics().opened(n.ino());
        return openReply(out, 0, FuseProtocol.FOPEN_KEEP_CACHE);
    }

    private static int openReply(ByteBuffer out, long fh, int openFlags) {
        out.putLong(OUT_HEADER, fh);
        out.putInt(OUT_HEADER + 8, openFlags);
        out.putInt(OUT_HEADER + 12, 0);
        return FuseProtocol.OPEN_OUT;
    }

    /** READ: the data goes from the chunk source straight into the reply buffer. */
    private int read(ByteBuffer in, ByteBuffer out) {
        VfsNode f = vfs.node(in.getLong(IN_NODEID));
        if (f == null || f.isPseudo()) {
            return f == null ? -Errno.ESTALE : -Errno.EISDIR;
        }
        long offset = in.getLong(IN_HEADER + 8);
        int size = Math.min(in.getInt(IN_HEADER + 16), out.capacity() - OUT_HEADER);
        RafsImage img = f.image();
        long ino = f.ino();
        long t0 = System.nanoTime();
        try {
            long fileSize = img.attributes(ino).size();
            if (offset >= fileSize || size <= 0) {
                img.metrics().record(FsMetrics.Fop.READ, ino, t0, 0, true);
                return 0;
            }
            int n = (int) Math.min(size, fileSize - offset);
            ByteBuffer dst = out.duplicate().position(OUT_HEADER).limit(OUT_HEADER + n);
            img.read(ino, offset, dst);
            img.metrics().record(FsMetrics.Fop.READ, ino, t0, n, true);
            return n;
        } catch (Throwable t) {
            img.metrics().record(FsMetrics.Fop.READ, ino, t0, 0, false);
            if (t instanceof IOException) {
                errors.warn("read of inode %d at %d of %s failed: %s", ino, offset, img.mountpoint(),
                        t.getMessage());
                return -Errno.EIO;
            }
            return fail("read", t);
        }
    }

    private int release(VfsNode n) {
        if (!n.isPseudo()) {
            n.image().metrics().record(FsMetrics.Fop.RELEASE, n.ino(), System.nanoTime(), 0, true);
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------- directories

    private int opendir(VfsNode n, ByteBuffer out) {
        if (!isDir(n)) {
            return -Errno.ENOTDIR;
        }
        if (noOpendir) {
            return -Errno.ENOSYS; // from now on the kernel opens directories by itself and caches listings
        }
        return openReply(out, 0, FuseProtocol.FOPEN_KEEP_CACHE | FuseProtocol.FOPEN_CACHE_DIR);
    }

    /**
     * READDIR and READDIRPLUS. Offsets: 1 and 2 follow "." and ".."; entry offsets are the image's readdir
     * cookie plus 2, so a listing resumes where the kernel's buffer filled up without re-reading the directory.
     */
    private int readdir(VfsNode dir, ByteBuffer in, ByteBuffer out, boolean plus) {
        if (!isDir(dir)) {
            return -Errno.ENOTDIR;
        }
        long offset = in.getLong(IN_HEADER + 8);
        int limit = OUT_HEADER + Math.min(in.getInt(IN_HEADER + 16), out.capacity() - OUT_HEADER);
        Listing l = new Listing(out, limit, plus);
        long self = dir.reportedIno();
        if (offset == 0 && !l.add(DOT, null, self, FileMode.S_IFDIR, 1)) {
            return l.length();
        }
        if (offset <= 1 && !l.add(DOTDOT, null, self, FileMode.S_IFDIR, 2)) {
            return l.length();
        }
        long cookie = Math.max(0, offset - 2);
        if (dir.isPseudo()) {
            List<Map.Entry<String, Object>> entries = new ArrayList<>(dir.pseudo().children().entrySet());
            for (int i = (int) cookie; i < entries.size(); i++) {
                VfsNode c = Vfs.node(entries.get(i).getValue());
                if (!l.add(entries.get(i).getKey().getBytes(StandardCharsets.UTF_8), c, c.reportedIno(),
                        FileMode.S_IFDIR, i + 3)) {
                    break;
                }
            }
        } else {
            RafsImage img = dir.image();
            img.superblock().readdir(dir.ino(), cookie, (name, ino, mode, next) -> l.add(name,
                    plus ? new VfsNode(img, ino, null) : null, img.reportedIno(ino), mode, next + 2));
        }
        return l.length();
    }

    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};

    /** Entries written into a reply buffer up to its limit. */
    private final class Listing {
        private final ByteBuffer out;
        private final int limit;
        private final boolean plus;
        private int pos = OUT_HEADER;

        Listing(ByteBuffer out, int limit, boolean plus) {
            this.out = out;
            this.limit = limit;
            this.plus = plus;
        }

        /**
         * Adds {@code fuse_dirent} (with {@code fuse_entry_out} before it when plus; node id 0 for "." and "..",
         * which the kernel does not look up); false when it does not fit.
         */
        boolean add(byte[] name, VfsNode node, long ino, int mode, long next) {
            int len = (plus ? ENTRY_OUT : 0) + DIRENT + align8(name.length);
            if (pos + len > limit) {
                return false;
            }
            int at = pos;
            if (plus) {
                if (node == null || !entry(node, out, at)) {
                    out.put(at, new byte[ENTRY_OUT]);
                }
                at += ENTRY_OUT;
            }
            out.putLong(at, ino);
            out.putLong(at + 8, next);
            out.putInt(at + 16, name.length);
            out.putInt(at + 20, (mode & FileMode.S_IFMT) >>> 12); // DT_* is the S_IFMT nibble
            out.put(at + DIRENT, name);
            for (int i = at + DIRENT + name.length; i < pos + len; i++) {
                out.put(i, (byte) 0);
            }
            pos += len;
            return true;
        }

        int length() {
            return pos - OUT_HEADER;
        }
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    // ------------------------------------------------------------------------------------------------- xattrs

    private int getxattr(VfsNode n, ByteBuffer in, ByteBuffer out) {
        int size = in.getInt(IN_HEADER);
        String name = new String(name(in, IN_HEADER + 8), StandardCharsets.UTF_8);
        if (n.isPseudo()) {
            return -Errno.ENODATA;
        }
        if (!n.image().xattrSupported()) {
            return xattrUnsupported();
        }
        byte[] v = n.image().xattrs(n.ino()).get(name);
        return v == null ? -Errno.ENODATA : copyOut(v, out, size);
    }

    private int listxattr(VfsNode n, ByteBuffer in, ByteBuffer out) {
        int size = in.getInt(IN_HEADER);
        if (n.isPseudo()) {
            return copyOut(new byte[0], out, size);
        }
        if (!n.image().xattrSupported()) {
            return xattrUnsupported();
        }
        Xattrs x = n.image().xattrs(n.ino());
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String k : x.asMap().keySet()) {
            names.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        return copyOut(names.toByteArray(), out, size);
    }

    /** The xattr requests' answer: the length when asked for it (size 0), ERANGE when it does not fit. */
    private static int copyOut(byte[] b, ByteBuffer out, int size) {
        if (size == 0) {
            out.putInt(OUT_HEADER, b.length);
            out.putInt(OUT_HEADER + 4, 0);
            return 8;
        }
        if (size < b.length || OUT_HEADER + b.length > out.capacity()) {
            return -Errno.ERANGE;
        }
        out.put(OUT_HEADER, b);
        return b.length;
    }

    /**
     * The answer for an image whose xattrs are off (neither {@code enable_xattr} nor any xattr in it): "not
     * supported". ENOSYS makes the kernel stop asking for the whole mount (ls -l otherwise sends two requests
     * per file), which is right only when the mount serves this one image; under a pseudo root other images may
     * have xattrs, so the refusal is per request.
     */
    private int xattrUnsupported() {
        return vfs.root().isPseudo() ? -Errno.EOPNOTSUPP : -Errno.ENOSYS;
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private static boolean isDir(VfsNode n) {
        return n.isPseudo() || n.image().attributes(n.ino()).isDir();
    }

    /** The NUL-terminated name at {@code at} of a request. */
    private static byte[] name(ByteBuffer in, int at) {
        int end = at;
        int len = in.getInt(FuseProtocol.IN_LEN);
        while (end < len && in.get(end) != 0) {
            end++;
        }
        byte[] b = new byte[end - at];
        in.get(at, b);
        return b;
    }

    private void record(VfsNode n, int opcode, long t0, boolean ok) {
        if (n == null || n.isPseudo() || Thread.currentThread() == warmer) {
            return;
        }
        FsMetrics.Fop fop = switch (opcode) {
            case FuseProtocol.LOOKUP -> FsMetrics.Fop.LOOKUP;
            case FuseProtocol.GETATTR -> FsMetrics.Fop.GETATTR;
            case FuseProtocol.READLINK -> FsMetrics.Fop.READLINK;
            case FuseProtocol.OPEN -> FsMetrics.Fop.OPEN;
            case FuseProtocol.STATFS -> FsMetrics.Fop.STATFS;
            case FuseProtocol.OPENDIR -> FsMetrics.Fop.OPENDIR;
            case FuseProtocol.READDIR -> FsMetrics.Fop.READDIR;
            case FuseProtocol.READDIRPLUS -> FsMetrics.Fop.READDIRPLUS;
            case FuseProtocol.GETXATTR -> FsMetrics.Fop.GETXATTR;
            case FuseProtocol.LISTXATTR -> FsMetrics.Fop.LISTXATTR;
            case FuseProtocol.ACCESS -> FsMetrics.Fop.ACCESS;
            default -> null;
        };
        if (fop != null) {
            n.image().metrics().record(fop, n.ino(), t0, 0, ok);
        }
    }

    /** Turns an unexpected failure into EIO: a malformed image never ends the request loop. */
    private int fail(String what, Throwable t) {
        errors.warn("%s failed: %s", what, String.valueOf(t));
        if (NydusdLog.enabled(NydusdLog.Level.TRACE)) {
            NydusdLog.error(t, "%s", what);
        }
        return -Errno.EIO;
    }

    // ------------------------------------------------------------------------------------------------- warm-up

    /**
     * Answers requests in-process for a moment (lookups, attributes and listings of the first entries from the
     * root down) so the JIT has compiled the request paths before the first user request; the first walk after
     * start otherwise runs in the interpreter.
     */
    void warmUp(int rounds) {
        warmer = Thread.currentThread();
        try {
            ByteBuffer in = ByteBuffer.allocate(IN_HEADER + 64 + NAME_MAX).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocateDirect(WARM_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
            List<VfsNode> dirs = new ArrayList<>(List.of(vfs.root()));
            List<byte[]> names = new ArrayList<>();
            List<Long> parents = new ArrayList<>();
            for (int i = 0; i < dirs.size() && names.size() < WARM_NODES; i++) {
                VfsNode d = dirs.get(i);
                long id = vfs.nodeId(d);
                request(in, FuseProtocol.READDIRPLUS, id).putLong(IN_HEADER + 8, 0).putInt(IN_HEADER + 16, WARM_BUFFER);
                handle(in, out);
                if (d.isPseudo()) {
                    d.pseudo().children().forEach((k, v) -> dirs.add(Vfs.node(v)));
                    continue;
                }
                d.image().superblock().readdir(d.ino(), 0, (name, ino, mode, next) -> {
                    names.add(name);
                    parents.add(id);
                    if (FileMode.isDir(mode)) {
                        dirs.add(new VfsNode(d.image(), ino, null));
                    }
                    return names.size() < WARM_NODES;
                });
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < names.size(); i++) {
                    request(in, FuseProtocol.LOOKUP, parents.get(i)).put(IN_HEADER, names.get(i))
                            .put(IN_HEADER + names.get(i).length, (byte) 0)
                            .putInt(FuseProtocol.IN_LEN, IN_HEADER + names.get(i).length + 1);
                    handle(in, out);
                    long child = out.getLong(OUT_HEADER);
                    request(in, FuseProtocol.GETATTR, child == 0 ? FuseProtocol.ROOT_ID : child);
                    handle(in, out);
                }
            }
        } finally {
            warmer = null;
        }
    }

    private static ByteBuffer request(ByteBuffer in, int opcode, long nodeId) {
        in.clear();
        in.putInt(FuseProtocol.IN_LEN, in.capacity()).putInt(IN_OPCODE, opcode).putLong(FuseProtocol.IN_UNIQUE, 0)
                .putLong(IN_NODEID, nodeId);
        return in;
    }
}
