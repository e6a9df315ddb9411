package io.nydus.daemon;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * The libfuse 2 and libc functions the daemon calls itself. jnr-fuse only offers {@code fuse_main_real}, which
 * blocks until unmount, installs nothing we can wait on and tears down signal state shared by every session of
 * the process; the daemon instead splits it into {@code fuse_setup} (synchronous mount), the loop, and its own
 * teardown, so that it knows at once whether a mount worked and can run several sessions in one process.
 *
 * <p>Only symbols whose plain {@code dlsym} name resolves to the current ABI are used: {@code fuse_new} is not
 * among them (an unversioned compat symbol shadows it).
 */
final class FuseLib {
    /** {@code umount2} flag: detach now, clean up when no longer busy. */
    static final int MNT_DETACH = 2;

    private FuseLib() {
    }

    /** libfuse.so.2. */
    public interface Fuse {
        /** {@code struct fuse *fuse_setup(argc, argv, op, op_size, char **mountpoint, int *multithreaded, void *user_data)}. */
        Pointer fuse_setup(int argc, @In Pointer argv, @In FuseOperations op, long opSize, @Out Pointer mountpoint,
                @Out Pointer multithreaded, Pointer userData);

        int fuse_loop(Pointer fuse);

        int fuse_loop_mt(Pointer fuse);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer session, Pointer chan);

        void fuse_unmount(String mountpoint, Pointer chan);

        void fuse_destroy(Pointer fuse);

        int fuse_lowlevel_notify_inval_entry(Pointer chan, long parent, @In byte[] name, long namelen);

        int fuse_lowlevel_notify_inval_inode(Pointer chan, long ino, long off, long len);
    }

    /** libc. */
    public interface C {
        int umount2(String target, int flags);

        void free(Pointer p);
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
