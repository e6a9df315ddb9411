package io.nydus.blobcache.registry;

import java.util.ArrayList;
import java.util.List;

/**
 * Ends the selector threads of the JDK's HTTP clients before a command-line tool exits.
 *
 * <p>Java 17's {@code HttpClient} cannot be closed, and each one keeps a selector thread blocked in
 * {@code epoll_wait}, that is in native code. {@code System.exit} waits up to 300 ms for threads in native code to
 * settle before it ends the process (measured: the VM thread polled 30 times, 10 ms apart, after every conversion).
 * A selector thread leaves its loop when interrupted and closes its client's connections on the way out.
 */
public final class HttpSelectorThreads {
    private static final long JOIN_MILLIS = 100;

    private HttpSelectorThreads() {
    }

    /** Interrupts every HTTP client selector thread and waits briefly for each to end. */
    public static void stop() {
        for (Thread t : selectorThreads()) {
            t.interrupt();
        }
        for (Thread t : selectorThreads()) {
            try {
                t.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static List<Thread> selectorThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] all = new Thread[root.activeCount() + 16];
        int n = root.enumerate(all, true);
        List<Thread> found = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = all[i].getName();
            if (name.startsWith("HttpClient-") && name.endsWith("-SelectorManager")) {
                found.add(all[i]);
            }
        }
        return found;
    }
}
