package io.nydus.daemon;

import java.nio.ByteBuffer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libfuse 2 and libc functions the daemon calls. libfuse mounts and unmounts (directly as root, through
 * {@code fusermount} otherwise, as every FUSE filesystem does); the requests on the mount's {@code /dev/fuse}
 * descriptor are read and answered by {@link FuseSession} itself.
 */
final class FuseLib {
    /** {@code umount2} flag: detach now, clean up when no longer busy. */
    static final int MNT_DETACH = 2;

    private FuseLib() {
    }

    /** libfuse.so.2. */
    public interface Fuse {
        /** {@code struct fuse_chan *fuse_mount(const char *mountpoint, struct fuse_args *args)}. */
        Pointer fuse_mount(String mountpoint, @In Pointer args);

        int fuse_chan_fd(Pointer chan);

        /** Closes the channel's descriptor and unmounts unless the mount is gone already; frees the channel. */
        void fuse_unmount(String mountpoint, Pointer chan);
    }

    /** libc. */
    public interface C {
        int umount2(String target, int flags);

        long read(int fd, @Out ByteBuffer buf, long count);

        long write(int fd, @In ByteBuffer buf, long count);

        int close(int fd);
    }

    private static final class Holder {
        static final Fuse FUSE = load();
        static final C LIBC = LibraryLoader.create(C.class).failImmediately().load("c");

        private static Fuse load() {
            try {
                return LibraryLoader.create(Fuse.class).failImmediately().load("fuse");
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                return LibraryLoader.create(Fuse.class).failImmediately().load("libfuse.so.2");
            }
        }
    }

    static Fuse fuse() {
        return Holder.FUSE;
    }

    static C libc() {
        return Holder.LIBC;
    }
}
