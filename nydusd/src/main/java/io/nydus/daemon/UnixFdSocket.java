package io.nydus.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;

/**
 * One message with a file descriptor attached ({@code SCM_RIGHTS}) over a unix stream socket: how a daemon hands
 * its FUSE device to a supervisor and how its successor gets it back (the JDK's unix sockets cannot carry
 * descriptors). Both sides of upstream's supervisor protocol: a client connects, then sends or receives one
 * message; the supervisor (the snapshotter, with recover_policy failover) listens.
 *
 * <pre>
 * struct msghdr (LP64, 56)                 struct cmsghdr + one int (CMSG_SPACE(4) = 24)
 * |  0 | 8 | msg_name (null)     |          |  0 | 8 | cmsg_len (CMSG_LEN(4) = 20) |
 * |  8 | 4 | msg_namelen         |          |  8 | 4 | cmsg_level (SOL_SOCKET 1)   |
 * | 16 | 8 | msg_iov             |          | 12 | 4 | cmsg_type (SCM_RIGHTS 1)    |
 * | 24 | 8 | msg_iovlen          |          | 16 | 4 | the descriptor              |
 * | 32 | 8 | msg_control         |
 * | 40 | 8 | msg_controllen      |          struct iovec (16): base, len
 * | 48 | 4 | msg_flags           |          struct sockaddr_un (110): family u16 (AF_UNIX 1), path[108]
 * </pre>
 */
public final class UnixFdSocket {
    /** Upstream's limit for the state sent with the descriptor. */
    public static final int MAX_DATA = 32 * 1024;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int SUN_PATH = 108;
    private static final int SOCKADDR_UN = 2 + SUN_PATH;
    private static final int CMSG_LEN = 20;
    private static final int CMSG_SPACE = 24;
    private static final int MSGHDR = 56;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SHUT_RDWR = 2;

    /** What was received: the data and the descriptor (-1 when none came). */
    public record Message(byte[] data, int fd) {
    }

    /** libc socket calls. */
    public interface C {
        int socket(int domain, int type, int protocol);

        int connect(int fd, @In Pointer addr, int len);

        int bind(int fd, @In Pointer addr, int len);

        int listen(int fd, int backlog);

        int shutdown(int fd, int how);

        int accept(int fd, Pointer addr, Pointer len);

        long sendmsg(int fd, @In Pointer msg, int flags);

        long recvmsg(int fd, Pointer msg, int flags);

        int close(int fd);
    }

    private static final class Holder {
        static final C LIBC = LibraryLoader.create(C.class).failImmediately().load("c");
    }

    private UnixFdSocket() {
    }

    private static C c() {
        return Holder.LIBC;
    }

    /** Connects to {@code path}, sends {@code data} with {@code fd} attached, and closes. */
    public static void send(Path path, byte[] data, int fd) throws IOException {
        int s = connect(path);
        try {
            send(s, data, fd);
        } finally {
            c().close(s);
        }
    }

    /** Connects to {@code path}, receives one message, and closes. */
    public static Message receive(Path path) throws IOException {
        int s = connect(path);
        try {
            return receive(s);
        } finally {
            c().close(s);
        }
    }

    /** A listening socket at {@code path} (the supervisor's side). */
    public static int listen(Path path) throws IOException {
        int s = socket();
        if (c().bind(s, address(path), SOCKADDR_UN) != 0 || c().listen(s, 4) != 0) {
            int errno = errno();
            c().close(s);
            throw new IOException("cannot listen on " + path + ": errno " + errno);
        }
        return s;
    }

    /** Waits for the next connection on a listening socket. */
    public static int accept(int listening) throws IOException {
        int s = c().accept(listening, null, null);
        if (s < 0) {
            throw new IOException("accept failed: errno " + errno());
        }
        return s;
    }

    public static void close(int fd) {
        c().close(fd);
    }

    /** Ends a listening socket: an {@link #accept} blocked on it returns with an error. */
    public static void shutdownAndClose(int listening) {
        c().shutdown(listening, SHUT_RDWR);
        c().close(listening);
    }

    public static void send(int socket, byte[] data, int fd) throws IOException {
        Runtime rt = Runtime.getSystemRuntime();
        Pointer buf = Memory.allocateDirect(rt, Math.max(1, data.length));
        buf.put(0, data, 0, data.length);
        Pointer control = Memory.allocateDirect(rt, CMSG_SPACE, true);
        control.putLong(0, CMSG_LEN);
        control.putInt(8, SOL_SOCKET);
        control.putInt(12, SCM_RIGHTS);
        control.putInt(16, fd);
        Pointer msg = message(rt, buf, data.length, control);
        if (c().sendmsg(socket, msg, 0) != data.length) {
            throw new IOException("cannot send the descriptor: errno " + errno());
        }
    }

    public static Message receive(int socket) throws IOException {
        Runtime rt = Runtime.getSystemRuntime();
        Pointer buf = Memory.allocateDirect(rt, MAX_DATA, true);
        Pointer control = Memory.allocateDirect(rt, CMSG_SPACE, true);
        Pointer msg = message(rt, buf, MAX_DATA, control);
        long n = c().recvmsg(socket, msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            throw new IOException("cannot receive the descriptor: errno " + errno());
        }
        byte[] data = new byte[(int) n];
        buf.get(0, data, 0, data.length);
        boolean hasFd = msg.getLong(40) >= CMSG_LEN && control.getInt(8) == SOL_SOCKET
                && control.getInt(12) == SCM_RIGHTS;
        return new Message(data, hasFd ? control.getInt(16) : -1);
    }

    private static Pointer message(Runtime rt, Pointer buf, int len, Pointer control) {
        Pointer iov = Memory.allocateDirect(rt, 16, true);
        iov.putPointer(0, buf);
        iov.putLong(8, len);
        Pointer msg = Memory.allocateDirect(rt, MSGHDR, true);
        msg.putPointer(16, iov);
        msg.putLong(24, 1);
        msg.putPointer(32, control);
        msg.putLong(40, CMSG_SPACE);
        return msg;
    }

    private static int connect(Path path) throws IOException {
        int s = socket();
        if (c().connect(s, address(path), SOCKADDR_UN) != 0) {
            int errno = errno();
            c().close(s);
            throw new IOException("cannot connect to " + path + ": errno " + errno);
        }
        return s;
    }

    private static int socket() throws IOException {
        int s = c().socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            throw new IOException("cannot create a unix socket: errno " + errno());
        }
        return s;
    }

    private static Pointer address(Path path) throws IOException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH) {
            throw new IOException("socket path " + path + " is longer than " + (SUN_PATH - 1) + " bytes");
        }
        Pointer a = Memory.allocateDirect(Runtime.getSystemRuntime(), SOCKADDR_UN, true);
        a.putShort(0, (short) AF_UNIX);
        a.put(2, p, 0, p.length);
        return a;
    }

    private static int errno() {
        return Runtime.getSystemRuntime().getLastError();
    }
}
