package io.nydus.daemon;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.Xattrs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.provider.jffi.ClosureHelper;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * The read-only FUSE filesystem (libfuse 2 high-level API through jnr-fuse's callback types) over a {@link Vfs}.
 *
 * <p>Callbacks are installed on a raw {@link FuseOperations} rather than through jnr-fuse's {@code FuseStubFS}:
 * the stub wraps every buffer in a freshly built struct object (25 fields for {@code struct stat}), which would
 * dominate a metadata walk. Attributes are written at fixed offsets ({@link StatLayout}); file data goes from
 * the chunk source straight into libfuse's buffer through a direct {@link ByteBuffer} over it, without a Java
 * copy. libfuse is told not to compute paths for requests that carry a file handle ({@code flag_nopath}).
 */
final class RafsFuse {
    private static final int O_ACCMODE = 3;
    private static final int W_OK = 2;
    private static final int NAME_MAX = 255;
    /** Longest name a directory entry buffer takes (NAME_MAX bytes plus the terminator, with slack). */
    private static final int NAME_BUF = 4096;
    private static final long ST_RDONLY = 1;
    private static final int OPS_BEFORE_FLAGS = 38;
    /** Entries the warm-up resolves, from the root down. */
    private static final int WARM_PATHS = 2000;

    private final Vfs vfs;
    private final InflightOps inflight;
    private final StatLayout layout = StatLayout.current();
    private final Runtime runtime = Runtime.getSystemRuntime();
    private final FuseOperations ops;
    private final Map<Long, Object> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    private final ThreadLocal<Pointer> direntStat;
    private final ThreadLocal<ByteBuffer> direntName = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(NAME_BUF));
    private volatile long fillerAddress;
    private volatile FuseFillDir filler;
    private final ErrorThrottle errors = new ErrorThrottle();
    /** The thread running {@link #warmUp}, whose calls are not counted in the metrics. */
    private volatile Thread warmer;

    /** An open regular file. */
    private record FileHandle(VfsNode node, long size) {
    }

    /** An open directory. */
    private record DirHandle(VfsNode node) {
    }

    RafsFuse(Vfs vfs, InflightOps inflight) {
        this.vfs = vfs;
        this.inflight = inflight;
        this.direntStat = ThreadLocal.withInitial(() -> Memory.allocateDirect(runtime, layout.size, true));
        this.ops = new FuseOperations(runtime);
        ops.getattr.set(this::getattr);
        ops.fgetattr.set(this::fgetattr);
        ops.readlink.set(this::readlink);
        ops.open.set(this::open);
        ops.read.set(this::read);
        ops.release.set(this::release);
        ops.statfs.set(this::statfs);
        ops.opendir.set(this::opendir);
        ops.readdir.set(this::readdir);
        ops.releasedir.set(this::releasedir);
        ops.getxattr.set(this::getxattr);
        ops.listxattr.set(this::listxattr);
        ops.access.set(this::access);
        // flag_nullpath_ok | flag_nopath: requests on an open handle need no path. The bit field follows the
        // 38 function pointers getattr..bmap of struct fuse_operations (libfuse 2.9).
        Pointer mem = Struct.getMemory(ops);
        long flagsAt = (long) OPS_BEFORE_FLAGS * runtime.addressSize();
        mem.putInt(flagsAt, mem.getInt(flagsAt) | 0b11);
    }

    FuseOperations operations() {
        return ops;
    }

    Vfs vfs() {
        return vfs;
    }

    // ------------------------------------------------------------------------------------------------- attributes

    private int getattr(String path, Pointer st) {
        return onPath(path, InflightOps.GETATTR, FsMetrics.Fop.GETATTR, n -> {
            fillStat(n, st);
            return 0;
        });
    }

    private int fgetattr(String path, Pointer st, Pointer fi) {
        Object h = handles.get(fi.getLong(StatLayout.FI_FH));
        VfsNode n = h instanceof FileHandle f ? f.node() : h instanceof DirHandle d ? d.node() : null;
        if (n == null) {
            return path == null ? -ErrorCodes.EBADF() : getattr(path, st);
        }
        try {
            fillStat(n, st);
            return 0;
        } catch (Throwable t) {
            return fail("fgetattr", t);
        }
    }

    private void fillStat(VfsNode n, Pointer st) {
        if (n.isPseudo()) {
            long t = vfs.startSecs();
            layout.write(st, n.reportedIno(), FileMode.S_IFDIR | 0755, 2 + n.pseudo().subdirs(), 0, 0, 0,
                    RafsImage.BLOCK_SIZE, RafsImage.BLOCK_SIZE / 512, t, 0);
            return;
        }
        RafsImage img = n.image();
        Inode in = img.attributes(n.ino());
        layout.write(st, img.reportedIno(n.ino()), img.reportedMode(in), in.nlink(), img.reportedUid(in),
                img.reportedGid(in), in.rdev(), in.size(), in.blocks(), img.reportedMtime(in), in.mtimeNsec());
    }

    private int readlink(String path, Pointer buf, long size) {
        return onPath(path, InflightOps.READLINK, FsMetrics.Fop.READLINK, n -> {
            if (n.isPseudo() || !FileMode.isSymlink(n.image().attributes(n.ino()).mode())) {
                return -ErrorCodes.EINVAL();
            }
            byte[] target = n.image().readlink(n.ino());
            int len = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, len);
            buf.putByte(len, (byte) 0);
            return 0;
        });
    }

    // ------------------------------------------------------------------------------------------------- files

    private int open(String path, Pointer fi) {
        if ((fi.getInt(0) & O_ACCMODE) != 0) {
            return -ErrorCodes.EROFS();
        }
        return onPath(path, InflightOps.OPEN, FsMetrics.Fop.OPEN, n -> {
            if (n.isPseudo()) {
                return -ErrorCodes.EISDIR();
            }
            Inode in = n.image().attributes(n.ino());
            if (in.isDir()) {
                return -ErrorCodes.EISDIR();
            }
            long fh = nextHandle.getAndIncrement();
            handles.put(fh, new FileHandle(n, in.size()));
            fi.putLong(StatLayout.FI_FH, fh);
            n.image().metrics().opened(n.ino(), path);
            return 0;
        });
    }

    private int read(String path, Pointer buf, long size, long offset, Pointer fi) {
        Object h = handles.get(fi.getLong(StatLayout.FI_FH));
        if (!(h instanceof FileHandle f)) {
            return -ErrorCodes.EBADF();
        }
        RafsImage img = f.node().image();
        long ino = f.node().ino();
        InflightOps.Slot slot = inflight.begin(InflightOps.READ, ino);
        long t0 = System.nanoTime();
        try {
            if (offset >= f.size() || size <= 0) {
                img.metrics().record(FsMetrics.Fop.READ, ino, t0, 0, true);
                return 0;
            }
            int n = (int) Math.min(size, f.size() - offset);
            // The FUSE reply buffer itself: the chunk source writes into it, no copy on the Java side.
            ByteBuffer dst = MemoryIO.getInstance().newDirectByteBuffer(buf.address(), n);
            img.read(ino, offset, dst);
            img.metrics().record(FsMetrics.Fop.READ, ino, t0, n, true);
            return n;
        } catch (Throwable t) {
            img.metrics().record(FsMetrics.Fop.READ, ino, t0, 0, false);
            if (t instanceof IOException) {
                errors.warn("read of inode %d at %d of %s failed: %s", ino, offset, img.mountpoint(),
                        t.getMessage());
                return -ErrorCodes.EIO();
            }
            return fail("read", t);
        } finally {
            InflightOps.end(slot);
        }
    }

    private int release(String path, Pointer fi) {
        Object h = handles.remove(fi.getLong(StatLayout.FI_FH));
        if (h instanceof FileHandle f) {
            f.node().image().metrics().record(FsMetrics.Fop.RELEASE, f.node().ino(), System.nanoTime(), 0, true);
        }
        return 0;
    }

    private int statfs(String path, Pointer st) {
        return onPath(path == null ? "/" : path, InflightOps.STATFS, FsMetrics.Fop.STATFS, n -> {
            st.setMemory(0, StatLayout.VFS_SIZE, (byte) 0);
            st.putLong(StatLayout.VFS_BSIZE, RafsImage.BLOCK_SIZE);
            st.putLong(StatLayout.VFS_FRSIZE, RafsImage.BLOCK_SIZE);
            st.putLong(StatLayout.VFS_NAMEMAX, NAME_MAX);
            st.putLong(StatLayout.VFS_FLAG, ST_RDONLY);
            if (!n.isPseudo()) {
                long bytes = n.image().totalBytes();
                st.putLong(StatLayout.VFS_BLOCKS, (bytes + RafsImage.BLOCK_SIZE - 1) / RafsImage.BLOCK_SIZE);
                st.putLong(StatLayout.VFS_FILES, n.image().superblock().inodeCount());
            }
            return 0;
        });
    }

    // ------------------------------------------------------------------------------------------------- directories

    private int opendir(String path, Pointer fi) {
        return onPath(path, InflightOps.OPENDIR, FsMetrics.Fop.OPENDIR, n -> {
            if (!n.isPseudo() && !n.image().attributes(n.ino()).isDir()) {
                return -ErrorCodes.ENOTDIR();
            }
            long fh = nextHandle.getAndIncrement();
            handles.put(fh, new DirHandle(n));
            fi.putLong(StatLayout.FI_FH, fh);
            return 0;
        });
    }

    /**
     * Directory offsets: 1 and 2 follow "." and ".."; entry offsets are the image's readdir cookie plus 2, so a
     * listing resumes where the kernel's buffer filled up without re-reading the directory from the start.
     */
    private int readdir(String path, Pointer buf, Pointer fillFn, long offset, Pointer fi) {
        Object h = handles.get(fi.getLong(StatLayout.FI_FH));
        if (!(h instanceof DirHandle d)) {
            return -ErrorCodes.EBADF();
        }
        VfsNode n = d.node();
        InflightOps.Slot slot = inflight.begin(InflightOps.READDIR, n.ino());
        long t0 = System.nanoTime();
        try {
            FuseFillDir fill = filler(fillFn);
            Pointer st = direntStat.get();
            long self = n.reportedIno();
            if (offset == 0 && fill(fill, buf, DOT, st, self, FileMode.S_IFDIR, 1)) {
                return 0;
            }
            if (offset <= 1 && fill(fill, buf, DOTDOT, st, self, FileMode.S_IFDIR, 2)) {
                return 0;
            }
            long cookie = Math.max(0, offset - 2);
            if (n.isPseudo()) {
                List<Map.Entry<String, Object>> entries = new ArrayList<>(n.pseudo().children().entrySet());
                for (int i = (int) cookie; i < entries.size(); i++) {
                    Map.Entry<String, Object> e = entries.get(i);
                    long ino = e.getValue() instanceof Vfs.PseudoDir p ? p.ino()
                            : ((RafsImage) e.getValue()).reportedIno(((RafsImage) e.getValue()).rootIno());
                    if (fill(fill, buf, e.getKey().getBytes(StandardCharsets.UTF_8), st, ino, FileMode.S_IFDIR,
                            i + 3)) {
                        break;
                    }
                }
            } else {
                RafsImage img = n.image();
                img.superblock().readdir(n.ino(), cookie,
                        (name, ino, mode, next) -> !fill(fill, buf, name, st, img.reportedIno(ino), mode, next + 2));
                record(n, FsMetrics.Fop.READDIR, t0, 0, true);
            }
            return 0;
        } catch (Throwable t) {
            record(n, FsMetrics.Fop.READDIR, t0, 0, false);
            return fail("readdir", t);
        } finally {
            InflightOps.end(slot);
        }
    }

    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};

    /** Adds one entry; true when libfuse's buffer is full. */
    private boolean fill(FuseFillDir fill, Pointer buf, byte[] name, Pointer st, long ino, int mode, long next) {
        ByteBuffer nb = direntName.get();
        nb.clear();
        nb.put(name, 0, Math.min(name.length, NAME_BUF - 1)).put((byte) 0).flip();
        layout.writeDirent(st, ino, mode);
        return fill.apply(buf, nb, st, next) != 0;
    }

    /** libfuse's fill function, converted once: it is the same function for every call. */
    private FuseFillDir filler(Pointer fn) {
        long address = fn.address();
        FuseFillDir f = filler;
        if (f != null && fillerAddress == address) {
            return f;
        }
        ClosureHelper helper = ClosureHelper.getInstance();
        f = helper.getNativeConveter(FuseFillDir.class).fromNative(fn, helper.getFromNativeContext());
        filler = f;
        fillerAddress = address;
        return f;
    }

    private int releasedir(String path, Pointer fi) {
        handles.remove(fi.getLong(StatLayout.FI_FH));
        return 0;
    }

    // ------------------------------------------------------------------------------------------------- xattrs

    private int getxattr(String path, String name, Pointer value, long size) {
        return onPath(path, InflightOps.GETXATTR, FsMetrics.Fop.GETXATTR, n -> {
            if (n.isPseudo()) {
                return -ErrorCodes.ENODATA();
            }
            if (!n.image().xattrSupported()) {
                return xattrUnsupported();
            }
            byte[] v = n.image().xattrs(n.ino()).get(FuseStrings.toUnicode(name));
            return v == null ? -ErrorCodes.ENODATA() : copyOut(v, value, size);
        });
    }

    private int listxattr(String path, Pointer list, long size) {
        return onPath(path, InflightOps.LISTXATTR, FsMetrics.Fop.LISTXATTR, n -> {
            if (n.isPseudo()) {
                return 0;
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
            return copyOut(names.toByteArray(), list, size);
        });
    }

    /** The xattr calls' answer: the length when asked for it (size 0), ERANGE when it does not fit. */
    private static int copyOut(byte[] b, Pointer to, long size) {
        if (size == 0) {
            return b.length;
        }
        if (size < b.length) {
            return -ErrorCodes.ERANGE();
        }
        to.put(0, b, 0, b.length);
        return b.length;
    }

    /**
     * The answer for an image whose xattrs are off (neither {@code enable_xattr} nor any xattr in it): "not
     * supported". ENOSYS makes the kernel stop asking for the whole mount (ls -l otherwise sends two requests
     * per file), which is right only when the mount serves this one image; under a pseudo root other images may
     * have xattrs, so the refusal is per request.
     */
    private int xattrUnsupported() {
        return vfs.root().isPseudo() ? -ErrorCodes.EOPNOTSUPP() : -ErrorCodes.ENOSYS();
    }

    private int access(String path, int mask) {
        int answer = (mask & W_OK) != 0 ? -ErrorCodes.EROFS() : 0;
        return onPath(path, InflightOps.ACCESS, FsMetrics.Fop.ACCESS, n -> answer);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /** A request's work on the node it names; returns the FUSE answer (0, a length, or a negative errno). */
    @FunctionalInterface
    private interface NodeOp {
        int apply(VfsNode n) throws Exception;
    }

    /**
     * Runs a request on the node at {@code path}: ENOENT when there is none, the in-flight slot, the metrics, and
     * EIO for anything unexpected, in one place.
     */
    private int onPath(String path, int inflightKind, FsMetrics.Fop fop, NodeOp op) {
        InflightOps.Slot slot = inflight.begin(inflightKind, 0);
        long t0 = System.nanoTime();
        VfsNode n = null;
        try {
            n = vfs.resolve(path);
            if (n == null) {
                return -ErrorCodes.ENOENT();
            }
            int answer = op.apply(n);
            record(n, fop, t0, 0, true); // an errno answer (ENODATA, EINVAL…) is still a request served
            return answer;
        } catch (Throwable t) {
            record(n, fop, t0, 0, false);
            return fail(fop.name().toLowerCase(Locale.ROOT) + " " + path, t);
        } finally {
            InflightOps.end(slot);
        }
    }

    private void record(VfsNode n, FsMetrics.Fop fop, long t0, long bytes, boolean ok) {
        if (n != null && !n.isPseudo() && Thread.currentThread() != warmer) {
            n.image().metrics().record(fop, n.ino(), t0, bytes, ok);
        }
    }

    /** Turns an unexpected failure into EIO: nothing may unwind into libfuse. */
    private int fail(String what, Throwable t) {
        errors.warn("%s failed: %s", what, String.valueOf(t));
        if (NydusdLog.enabled(NydusdLog.Level.TRACE)) {
            NydusdLog.error(t, "%s", what);
        }
        return -ErrorCodes.EIO();
    }

    /**
     * Runs the metadata callbacks in-process for a moment so the JIT has compiled them before the first user
     * request (the first walk after start otherwise runs in the interpreter).
     */
    void warmUp(int rounds) {
        warmer = Thread.currentThread();
        try {
            warm(rounds);
        } finally {
            warmer = null;
        }
    }


    private void warm(int rounds) {
        Pointer st = Memory.allocateDirect(runtime, layout.size, true);
        Pointer stvfs = Memory.allocateDirect(runtime, StatLayout.VFS_SIZE, true);
        List<String> paths = new ArrayList<>();
        paths.add("/");
        // Breadth-first from the root: directories of every size, names at every depth near the top.
        for (int i = 0; i < paths.size() && paths.size() < WARM_PATHS; i++) {
            String dirPath = paths.get(i);
            VfsNode n = vfs.resolve(dirPath);
            if (n == null) {
                continue;
            }
            String prefix = dirPath.equals("/") ? "/" : dirPath + "/";
            if (n.isPseudo()) {
                for (String name : n.pseudo().children().keySet()) {
                    paths.add(prefix + name);
                }
            } else if (n.image().attributes(n.ino()).isDir()) {
                n.image().superblock().readdir(n.ino(), 0, (name, ino, mode, next) -> {
                    paths.add(prefix + FuseStrings.fromBytes(name));
                    return paths.size() < WARM_PATHS;
                });
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (String p : paths) {
                getattr(p, st);
            }
            access("/", 0);
            statfs("/", stvfs);
        }
        warmNativeEntry(paths, rounds, st);
    }

    /**
     * Calls getattr through the native entry point libfuse calls, so that jnr-ffi's upcall stub is compiled
     * as well (without going through the kernel, which would keep the fresh mount busy).
     */
    private void warmNativeEntry(List<String> paths, int rounds, Pointer st) {
        long fn = Struct.getMemory(ops).getAddress(0);
        if (fn == 0) {
            return;
        }
        CallContext ctx = new CallContext(Type.SINT, Type.POINTER, Type.POINTER);
        List<Pointer> names = new ArrayList<>();
        for (String p : paths) {
            byte[] b = FuseStrings.bytes(p);
            Pointer c = Memory.allocateDirect(runtime, b.length + 1, true);
            c.put(0, b, 0, b.length);
            names.add(c);
        }
        Invoker invoker = Invoker.getInstance();
        for (int r = 0; r < rounds; r++) {
            for (Pointer name : names) {
                invoker.invokeN2(ctx, fn, name.address(), st.address());
            }
        }
    }
}
