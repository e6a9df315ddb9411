package io.nydus.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the kernel says about mounts, and the cleanup a test does whatever happened. */
final class MountInfo {
    private MountInfo() {
    }

    /** Whether {@code dir} is a mountpoint (per /proc/self/mountinfo). */
    static boolean isMounted(Path dir) throws IOException {
        String target = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(target)) {
                return true;
            }
        }
        return false;
    }

    /** The filesystem type of the mount at {@code dir}, or null. */
    static String fsType(Path dir) throws IOException {
        String target = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(target)) {
                for (int i = 5; i < f.length - 1; i++) {
                    if (f[i].equals("-")) {
                        return f[i + 1];
                    }
                }
            }
        }
        return null;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** Lazily unmounts {@code dir} if it is still mounted (test teardown). */
    static void forceUnmount(Path dir) {
        try {
            if (isMounted(dir)) {
                run(List.of("fusermount", "-u", "-z", dir.toString()));
            }
        } catch (IOException e) {
            // Teardown: nothing more to do.
        }
    }

    /** Writes dirty data and drops the page, dentry and inode caches, so reads reach the daemon again. */
    static void dropCaches() throws IOException {
        run(List.of("sync"));
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
    }

    static int run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd + " timed out");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
