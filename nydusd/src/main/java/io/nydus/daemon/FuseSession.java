package io.nydus.daemon;

import static io.nydus.daemon.FuseProtocol.IN_HEADER;
import static io.nydus.daemon.FuseProtocol.OUT_HEADER;

import io.nydus.daemon.FuseProtocol.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * One FUSE mount: libfuse mounts it (synchronously, so a failed mount is known at once and leaves nothing
 * behind), or it is {@linkplain #adopt adopted} from a predecessor; a loop thread reads requests from the
 * mount's {@code /dev/fuse} descriptor and answers them through {@link RafsFuse}, until the mount goes away —
 * unmounted by the daemon, by {@code fusermount -u}, or aborted. Several sessions may run in one process.
 *
 * <p>Threads: metadata requests are answered on the loop thread itself. They take microseconds, and a request
 * handed from thread to thread costs a wake-up on another CPU for each; measured on a 2-vCPU VM, that doubled
 * the time of a metadata walk. READs, which may wait for the network, go to {@code threads} workers (inline when
 * {@code threads} is 1).
 */
final class FuseSession {
    /** FUSE's root node id, the parent for invalidating top-level names. */
    static final long ROOT_NODE_ID = FuseProtocol.ROOT_ID;
    /** Largest request the kernel sends a read-only filesystem (a LOOKUP or GETXATTR name), with room to spare. */
    private static final int IN_BUFFER = 4 * FuseProtocol.MIN_READ_BUFFER;
    private static final int MAX_WRITE = 4096;
    private static final int INIT_WAIT_SECONDS = 30;
    /** Wanted INIT flags, where the kernel offers them. */
    private static final int WANTED = FuseProtocol.ASYNC_READ | FuseProtocol.DO_READDIRPLUS
            | FuseProtocol.PARALLEL_DIROPS | FuseProtocol.MAX_PAGES | FuseProtocol.CACHE_SYMLINKS;
    private static final AtomicInteger SESSIONS = new AtomicInteger();

    private final Path mountpoint;
    private final RafsFuse fs;
    private final Pointer chan;
    private final int fd;
    private final int maxRead;
    /** fuse_args and its strings, kept while mounted. */
    @SuppressWarnings("unused")
    private final List<Pointer> keepAlive;
    private final ExecutorService readers;
    private final ThreadLocal<ByteBuffer> replyBuffer;
    private final CountDownLatch initialized = new CountDownLatch(1);
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Thread loop;
    private volatile String initError;
    private volatile long connection = -1;
    private volatile String bdi;
    private volatile Runnable onEnd = () -> { };

    private FuseSession(Path mountpoint, RafsFuse fs, Pointer chan, int fd, int threads, int maxRead,
            List<Pointer> keepAlive) {
        this.mountpoint = mountpoint;
        this.fs = fs;
        this.chan = chan;
        this.fd = fd;
        this.maxRead = maxRead;
        this.keepAlive = keepAlive;
        this.replyBuffer = ThreadLocal.withInitial(() -> direct(OUT_HEADER + maxRead));
        int n = SESSIONS.incrementAndGet();
        AtomicInteger workers = new AtomicInteger();
        this.readers = threads <= 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "fuse-read-" + n + "-" + workers.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.loop = new Thread(this::run, "fuse-" + n + " " + mountpoint);
        this.loop.setDaemon(true);
    }

    private static ByteBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Mounts {@code fs} at {@code mountpoint} with mount options {@code options} (the "-o" list), starts serving
     * and waits for the kernel's INIT. Throws with a one-line message when the mount fails.
     */
    static FuseSession mount(Path mountpoint, RafsFuse fs, String options, int threads, int maxRead)
            throws IOException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        if (!Files.isDirectory(mp)) {
            throw new IOException("mountpoint " + mp + " is not a directory");
        }
        Runtime rt = Runtime.getSystemRuntime();
        List<String> args = List.of("nydusd", "-o", options);
        List<Pointer> keep = new ArrayList<>();
        Pointer argv = Memory.allocateDirect(rt, (args.size() + 1) * 8L, true);
        keep.add(argv);
        for (int i = 0; i < args.size(); i++) {
            byte[] b = args.get(i).getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(rt, b.length + 1, true);
            s.put(0, b, 0, b.length);
            keep.add(s);
            argv.putPointer(i * 8L, s);
        }
        // struct fuse_args { int argc; char **argv; int allocated; }
        Pointer fuseArgs = Memory.allocateDirect(rt, 24, true);
        fuseArgs.putInt(0, args.size());
        fuseArgs.putPointer(8, argv);
        keep.add(fuseArgs);
        Pointer ch = FuseLib.fuse().fuse_mount(mp.toString(), fuseArgs);
        if (ch == null) {
            throw new IOException("cannot mount FUSE at " + mp + " (see the libfuse message above)");
        }
        FuseSession s = new FuseSession(mp, fs, ch, FuseLib.fuse().fuse_chan_fd(ch), threads, maxRead, keep);
        s.loop.start();
        if (!s.awaitInit()) {
            s.unmount(INIT_WAIT_SECONDS * 1000L);
            throw new IOException("FUSE mount at " + mp + " failed: " + s.initError);
        }
        s.connection = s.readConnection();
        return s;
    }

    /**
     * Serves a mount whose connection another daemon set up and handed over ({@code fd}, received from the
     * supervisor): no INIT comes, so what was negotiated comes with it. Requests the old daemon had read but not
     * answered are asked for again ({@code NOTIFY_RESEND}, Linux 6.9+), so no reader waits forever.
     */
    static FuseSession adopt(Path mountpoint, RafsFuse fs, int fd, boolean noOpendir, int threads, int maxRead) {
        fs.setNoOpendir(noOpendir);
        FuseSession s = new FuseSession(mountpoint.toAbsolutePath().normalize(), fs, null, fd, threads, maxRead,
                List.of());
        s.initialized.countDown();
        s.loop.start();
        s.notify(direct(OUT_HEADER), FuseProtocol.NOTIFY_RESEND);
        s.connection = s.readConnection();
        return s;
    }

    /** The FUSE device, to hand to a supervisor. */
    int fd() {
        return fd;
    }

    int maxRead() {
        return maxRead;
    }

    private boolean awaitInit() {
        try {
            if (!initialized.await(INIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
                initError = "no INIT from the kernel in " + INIT_WAIT_SECONDS + " s";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            initError = "interrupted";
        }
        return initError == null;
    }

    // ------------------------------------------------------------------------------------------------- the loop

    private void run() {
        ByteBuffer in = direct(IN_BUFFER);
        ByteBuffer out = replyBuffer.get();
        try {
            while (true) {
                long n = FuseLib.libc().read(fd, in, IN_BUFFER);
                if (n < 0) {
                    int errno = Runtime.getSystemRuntime().getLastError();
                    if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.ENOENT) {
                        continue; // interrupted, or a request the kernel withdrew before we read it
                    }
                    if (errno != Errno.ENODEV) {
                        NydusdLog.warn("reading FUSE requests of %s: errno %d", mountpoint, errno);
                    }
                    break; // ENODEV: unmounted or aborted
                }
                if (n < IN_HEADER) {
                    continue;
                }
                int opcode = in.getInt(FuseProtocol.IN_OPCODE);
                if (opcode == FuseProtocol.READ && readers != null) {
                    byte[] copy = new byte[(int) n];
                    in.get(0, copy);
                    try {
                        readers.execute(() -> serve(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN),
                                replyBuffer.get()));
                    } catch (RejectedExecutionException e) {
                        break;
                    }
                } else if (opcode == FuseProtocol.INIT) {
                    reply(out, in.getLong(FuseProtocol.IN_UNIQUE), init(in, out));
                    initialized.countDown();
                } else if (opcode == FuseProtocol.DESTROY) {
                    reply(out, in.getLong(FuseProtocol.IN_UNIQUE), 0);
                } else {
                    serve(in, out);
                }
            }
            NydusdLog.debug("FUSE loop of %s ended", mountpoint);
        } catch (Throwable t) {
            NydusdLog.error(t, "FUSE loop of %s failed: %s", mountpoint, t);
        } finally {
            if (readers != null) {
                readers.shutdownNow();
            }
            try {
                if (chan != null) {
                    FuseLib.fuse().fuse_unmount(mountpoint.toString(), chan);
                } else { // adopted: the descriptor is ours alone
                    FuseLib.libc().close(fd);
                    FuseLib.libc().umount2(mountpoint.toString(), FuseLib.MNT_DETACH);
                }
            } catch (Throwable t) {
                NydusdLog.debug("FUSE teardown of %s: %s", mountpoint, t);
            }
            initialized.countDown(); // unmounted before INIT: not a failed start, the session has simply ended
            ended.countDown();
            onEnd.run();
        }
    }

    private void serve(ByteBuffer in, ByteBuffer out) {
        int r = fs.handle(in, out);
        if (r != RafsFuse.NO_REPLY) {
            reply(out, in.getLong(FuseProtocol.IN_UNIQUE), r);
        }
    }

    /** Sends the reply whose body {@code r} bytes long is in {@code out}, or the error {@code r} if negative. */
    private void reply(ByteBuffer out, long unique, int r) {
        int len = OUT_HEADER + Math.max(r, 0);
        out.putInt(0, len);
        out.putInt(4, Math.min(r, 0));
        out.putLong(8, unique);
        if (FuseLib.libc().write(fd, out, len) < 0) {
            int errno = Runtime.getSystemRuntime().getLastError();
            if (errno != Errno.ENOENT) { // ENOENT: the request was interrupted meanwhile
                NydusdLog.debug("FUSE reply to %d on %s: errno %d", unique, mountpoint, errno);
            }
        }
    }

    /**
     * Negotiates the connection: protocol 7.23 or later; reads of up to {@code maxRead} bytes, sent
     * asynchronously; listings with attributes; symlink targets and listings cached by the kernel.
     */
    private int init(ByteBuffer in, ByteBuffer out) {
        int major = in.getInt(IN_HEADER);
        int minor = in.getInt(IN_HEADER + 4);
        int maxReadahead = in.getInt(IN_HEADER + 8);
        int offered = in.getInt(IN_HEADER + 12);
        if (major != FuseProtocol.KERNEL_VERSION || minor < FuseProtocol.MIN_MINOR_VERSION) {
            initError = "the kernel speaks FUSE " + major + "." + minor + "; 7." + FuseProtocol.MIN_MINOR_VERSION
                    + " or later is needed";
            return -Errno.EPROTO;
        }
        fs.setNoOpendir((offered & FuseProtocol.NO_OPENDIR_SUPPORT) != 0);
        out.put(OUT_HEADER, new byte[FuseProtocol.INIT_OUT]);
        out.putInt(OUT_HEADER, FuseProtocol.KERNEL_VERSION);
        out.putInt(OUT_HEADER + 4, Math.min(minor, FuseProtocol.KERNEL_MINOR_VERSION));
        out.putInt(OUT_HEADER + 8, maxReadahead);
        out.putInt(OUT_HEADER + 12, offered & WANTED);
        out.putInt(OUT_HEADER + 20, MAX_WRITE);
        out.putInt(OUT_HEADER + 24, 1); // time granularity: nanoseconds
        out.putShort(OUT_HEADER + 28, (short) (maxRead / 4096));
        return FuseProtocol.INIT_OUT;
    }

    /**
     * The kernel's FUSE connection number ({@code /sys/fs/fuse/connections/N}) and backing device name
     * ({@code /sys/class/bdi/MAJOR:MINOR}), from the mount's device number in {@code /proc/self/mountinfo}: a
     * stat of the mountpoint would hold the fresh mount busy, and an unmount at that moment would fail.
     */
    private long readConnection() {
        try {
            // mountinfo fields: id, parent id, MAJOR:MINOR, root, mount point (octal escapes), ...
            String dev = null;
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.ISO_8859_1)) {
                String[] f = line.split(" ");
                if (f.length > 4 && unescape(f[4]).equals(mountpoint.toString())) {
                    dev = f[2]; // the last match is the topmost mount
                }
            }
            if (dev == null) {
                return -1;
            }
            bdi = dev;
            String[] mm = dev.split(":");
            return Long.parseLong(mm[1]) | (Long.parseLong(mm[0]) << 20);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A mountinfo path: space, tab, newline and backslash are written as octal escapes. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * Sets the kernel's readahead for this mount. FUSE starts at 128 KiB and a daemon can only lower it during
     * the handshake; raising it lets sequential reads keep several requests in flight (measured with
     * libfuse's 128 KiB requests: 0.6-0.9 GB/s at 128 KiB, 1.2-1.5 GB/s at 1 MiB, 512 MiB file from the cache).
     * Best effort.
     */
    void setReadAheadKib(int kib) {
        String b = bdi;
        if (b == null) {
            return;
        }
        try {
            Files.writeString(Path.of("/sys/class/bdi/" + b + "/read_ahead_kb"), Integer.toString(kib));
        } catch (IOException e) {
            NydusdLog.debug("cannot set readahead of %s: %s", mountpoint, e.getMessage());
        }
    }

    Path mountpoint() {
        return mountpoint;
    }

    RafsFuse filesystem() {
        return fs;
    }

    boolean isAlive() {
        return ended.getCount() > 0;
    }

    /** Runs {@code r} once the loop has ended (immediately if it already has). */
    void onEnd(Runnable r) {
        onEnd = r;
        if (!isAlive()) {
            r.run();
        }
    }

    /**
     * Unmounts (lazily: files still open keep being served until closed) and waits up to {@code waitMillis} for
     * the loop to end; if it has not, aborts the connection so that it does.
     */
    void unmount(long waitMillis) {
        if (!isAlive()) {
            return;
        }
        if (FuseLib.libc().umount2(mountpoint.toString(), FuseLib.MNT_DETACH) != 0) {
            runFusermount();
        }
        if (!awaitEnd(waitMillis)) {
            abort();
            awaitEnd(waitMillis);
        }
    }

    private void runFusermount() {
        try {
            Process p = new ProcessBuilder("fusermount", "-u", "-z", mountpoint.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            NydusdLog.warn("cannot unmount %s: %s", mountpoint, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the connection at once (pending and future requests fail with ENOTCONN). */
    void abort() {
        if (connection < 0) {
            return;
        }
        Path ctl = Path.of("/sys/fs/fuse/connections/" + connection + "/abort");
        try {
            Files.writeString(ctl, "1");
        } catch (IOException e) {
            NydusdLog.debug("cannot abort FUSE connection %d: %s", connection, e.getMessage());
        }
    }

    boolean awaitEnd(long millis) {
        try {
            return ended.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !isAlive();
        }
    }

    /**
     * Tells the kernel to forget {@code name} in directory {@code parent} (a FUSE node id) and everything it
     * cached below it: needed when images are mounted, replaced or unmounted, since entries are cached for long.
     */
    void invalidateEntry(long parent, byte[] name) {
        if (!isAlive()) {
            return;
        }
        ByteBuffer entry = direct(OUT_HEADER + 16 + name.length + 1);
        entry.putLong(OUT_HEADER, parent).putInt(OUT_HEADER + 8, name.length).put(OUT_HEADER + 16, name);
        notify(entry, FuseProtocol.NOTIFY_INVAL_ENTRY);
    }

    /** Tells the kernel to forget a node's attributes and cached pages (for a directory: its listing). */
    void invalidateInode(long node) {
        if (!isAlive()) {
            return;
        }
        ByteBuffer inode = direct(OUT_HEADER + 24);
        inode.putLong(OUT_HEADER, node); // offset 0, length 0: all pages
        notify(inode, FuseProtocol.NOTIFY_INVAL_INODE);
    }

    /** After the image at the root was replaced by another: forgets every name {@code old} had at its top. */
    void invalidateRoot(RafsImage old) {
        old.superblock().readdir(old.rootIno(), 0, (name, ino, mode, next) -> {
            invalidateEntry(ROOT_NODE_ID, name);
            return true;
        });
        invalidateInode(ROOT_NODE_ID);
    }

    private void notify(ByteBuffer msg, int code) {
        msg.putInt(0, msg.capacity()).putInt(4, code).putLong(8, 0);
        if (FuseLib.libc().write(fd, msg, msg.capacity()) < 0) {
            NydusdLog.debug("FUSE notification %d on %s: errno %d", code, mountpoint,
                    Runtime.getSystemRuntime().getLastError());
        }
    }
}
