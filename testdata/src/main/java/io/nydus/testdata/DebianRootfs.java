package io.nydus.testdata;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * A real Debian bookworm minbase rootfs ({@code debootstrap --variant=minbase}, ~6,700 files, ~200 MB) and a tar
 * of it, built once by {@code testdata/scripts/debian-rootfs.sh} and cached in {@code /var/cache/nydus-testdata}
 * (override with {@code NYDUS_TESTDATA_CACHE}).
 */
public final class DebianRootfs {
    private DebianRootfs() {
    }

    public static Path cacheDir() {
        String env = System.getenv("NYDUS_TESTDATA_CACHE");
        return Paths.get(env != null ? env : "/var/cache/nydus-testdata").resolve("debian");
    }

    /** The rootfs directory, building it first if needed. */
    public static synchronized Path dir() throws IOException {
        ensure();
        return cacheDir().resolve("rootfs");
    }

    /** A POSIX tar of the rootfs (numeric owners, xattrs, nanosecond mtimes). */
    public static synchronized Path tar() throws IOException {
        ensure();
        return cacheDir().resolve("rootfs.tar");
    }

    private static void ensure() throws IOException {
        if (Files.exists(cacheDir().resolve(".complete-minbase"))) {
            return;
        }
        try {
            Process p = new ProcessBuilder("bash", Project.script("debian-rootfs.sh").toString(), cacheDir().toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("building the Debian rootfs failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
