package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The mounts of this process's namespace ({@code /proc/self/mountinfo}) and unmounting. Used so that nothing is
 * ever deleted through a live mount (a nydusd FUSE mount, or a bind mount standing in for one) and so that a
 * dead daemon's stale mountpoint is detached before a new daemon mounts there.
 */
public final class MountTable {
    private MountTable() {
    }

    /** Mount points at or below {@code dir}, deepest first. */
    public static List<Path> under(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        List<Path> found = new ArrayList<>();
        for (Path p : mountPoints()) {
            if (p.startsWith(base)) {
                found.add(p);
            }
        }
        found.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        return found;
    }

    public static boolean isMountPoint(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        return mountPoints().contains(base);
    }

    /** Every mount point listed in /proc/self/mountinfo (field 5, octal escapes decoded). */
    public static List<Path> mountPoints() {
        List<Path> points = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    points.add(Path.of(unescape(f[4])));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
        }
        return points;
    }

    /**
     * Unmounts everything at or below {@code dir}, deepest first; a busy mount is detached lazily (its users keep
     * what they have open, as a running container keeps its rootfs). Returns false if something stayed mounted.
     */
    public static boolean unmountAll(Path dir) {
        for (Path p : under(dir)) {
            if (!run("umount", p.toString())) {
                run("umount", "-l", p.toString());
            }
        }
        return under(dir).isEmpty();
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 4 <= s.length()) {
                String oct = s.substring(i + 1, i + 4);
                if (oct.chars().allMatch(ch -> ch >= '0' && ch <= '7')) {
                    b.append((char) Integer.parseInt(oct, 8));
                    i += 3;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private static boolean run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
