package io.nydus.nydusify;

/** Phase timestamps on stderr when {@code -Dnydusify.timing=true} (for profiling conversions). */
public final class Timing {
    private static final boolean ON = Boolean.getBoolean("nydusify.timing");

    private Timing() {
    }

    public static void mark(String what) {
        if (ON) {
            System.err.printf("[%.3f s since JVM start] %s (%s)%n",
                    java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1e3, what,
                    Thread.currentThread().getName());
        }
    }
}
