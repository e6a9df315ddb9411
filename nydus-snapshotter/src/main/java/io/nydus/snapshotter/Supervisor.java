package io.nydus.snapshotter;

import io.nydus.daemon.UnixFdSocket;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The supervisor of one nydusd ({@code recover_policy = "failover"}): a unix socket the daemon connects to. On
 * {@code sendfd} the daemon sends its FUSE device and state, which are kept here; when it has died, its successor
 * (started with {@code --upgrade}) connects on {@code takeover} and gets them back, so the mount and the files
 * open on it live on. The kept descriptor also keeps the mount's connection alive between the two.
 */
final class Supervisor implements Closeable {
    private final Path socket;
    private final int listening;
    private final Thread acceptor;
    private UnixFdSocket.Message held;
    private long received;
    private boolean giving;
    private volatile boolean closed;

    private Supervisor(Path socket, int listening) {
        this.socket = socket;
        this.listening = listening;
        this.acceptor = new Thread(this::serve, "supervisor " + socket.getFileName());
        this.acceptor.setDaemon(true);
    }

    /** Listens at {@code socket} (a stale socket file is replaced). */
    static Supervisor open(Path socket) throws IOException {
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        Supervisor s = new Supervisor(socket, UnixFdSocket.listen(socket));
        s.acceptor.start();
        return s;
    }

    /** How many messages the daemon has sent so far. */
    synchronized long received() {
        return received;
    }

    /**
     * Waits until the daemon has sent a message after the first {@code before} (a {@code sendfd} just asked
     * for); false on timeout.
     */
    synchronized boolean awaitReceived(long before, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (received <= before && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return received > before;
    }

    synchronized boolean holds() {
        return held != null;
    }

    /** The next connection gets what is held (the successor's {@code takeover}) instead of sending. */
    synchronized void giveNext() {
        giving = true;
    }

    private void serve() {
        while (!closed) {
            int c;
            try {
                c = UnixFdSocket.accept(listening);
            } catch (IOException e) {
                if (!closed) {
                    Log.warn("supervisor %s: %s", socket, e.getMessage());
                }
                return;
            }
            try {
                exchange(c);
            } catch (IOException e) {
                Log.warn("supervisor %s: %s", socket, e.getMessage());
            } finally {
                UnixFdSocket.close(c);
            }
        }
    }

    private void exchange(int c) throws IOException {
        UnixFdSocket.Message give;
        synchronized (this) {
            give = giving ? held : null;
        }
        if (give != null) {
            UnixFdSocket.send(c, give.data(), give.fd());
            synchronized (this) {
                giving = false;
            }
            return;
        }
        UnixFdSocket.Message m = UnixFdSocket.receive(c);
        if (m.fd() < 0) {
            throw new IOException("a message without a descriptor");
        }
        synchronized (this) {
            if (held != null) {
                UnixFdSocket.close(held.fd());
            }
            held = m;
            received++;
            notifyAll();
        }
    }

    /** Stops listening and lets go of the device (the daemon, if alive, keeps its own). */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (held != null) {
                UnixFdSocket.close(held.fd());
                held = null;
            }
            notifyAll();
        }
        UnixFdSocket.shutdownAndClose(listening);
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            Log.debug("cannot remove %s: %s", socket, e.getMessage());
        }
    }
}
