package io.nydus.testdata;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What a user compares between two trees, as one line per path: type, permission bits, owner, size, mtime with
 * nanoseconds, content sha256, symlink target, device numbers, hard-link group and xattrs.
 *
 * <p>An oracle independent of the code under test: attributes come from the JDK's {@code lstat}, xattrs from
 * {@code getfattr} (package attr).
 */
public final class TreeManifest {
    /** What to leave out of the comparison. */
    public record Options(boolean rootAttributes, boolean xattrs, boolean symlinkMtime, boolean dirSize) {
        /** Everything but the root directory's own attributes and directory sizes (filesystem specific). */
        public static final Options DEFAULT = new Options(false, true, true, false);

        public Options withoutXattrs() {
            return new Options(rootAttributes, false, symlinkMtime, dirSize);
        }

        public Options withoutSymlinkMtime() {
            return new Options(rootAttributes, xattrs, false, dirSize);
        }

        public Options withRootAttributes() {
            return new Options(true, xattrs, symlinkMtime, dirSize);
        }
    }

    private TreeManifest() {
    }

    public static Map<String, String> of(Path root) throws IOException {
        return of(root, Options.DEFAULT);
    }

    /** Path (relative, "." for the root) to description. */
    public static Map<String, String> of(Path root, Options opt) throws IOException {
        Map<String, Map<String, String>> xattrs = opt.xattrs() ? xattrs(root) : Map.of();
        TreeMap<String, String> out = new TreeMap<>();
        Map<String, String> firstLink = new HashMap<>();
        List<Path> paths = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                paths.add(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                paths.add(file);
                return FileVisitResult.CONTINUE;
            }
        });
        paths.sort((a, b) -> root.relativize(a).toString().compareTo(root.relativize(b).toString()));
        for (Path p : paths) {
            String rel = root.relativize(p).toString();
            if (rel.isEmpty()) {
                rel = ".";
            }
            Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & 0170000;
            StringBuilder sb = new StringBuilder();
            sb.append("type=").append(typeName(type));
            boolean isRoot = rel.equals(".");
            if (!isRoot || opt.rootAttributes()) {
                sb.append(" mode=").append(String.format("%04o", mode & 07777));
                sb.append(" uid=").append(a.get("uid")).append(" gid=").append(a.get("gid"));
                if (type != 0120000 || opt.symlinkMtime()) {
                    sb.append(" mtime=").append(mtime((FileTime) a.get("lastModifiedTime")));
                }
            }
            if (type == 0100000) {
                sb.append(" size=").append(a.get("size"));
                sb.append(" sha256=").append(sha256(p));
                long nlink = ((Number) a.get("nlink")).longValue();
                if (nlink > 1) {
                    String key = a.get("dev") + ":" + a.get("ino");
                    String first = firstLink.putIfAbsent(key, rel);
                    sb.append(" link=").append(first == null ? rel : first);
                }
            } else if (type == 0120000) {
                sb.append(" target=").append(Files.readSymbolicLink(p));
            } else if (type == 0020000 || type == 0060000) {
                long rdev = ((Number) a.get("rdev")).longValue();
                long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
                long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
                sb.append(" rdev=").append(major).append(':').append(minor);
            } else if (type == 0040000 && opt.dirSize()) {
                sb.append(" size=").append(a.get("size"));
            }
            Map<String, String> x = xattrs.get(rel);
            if (x != null && !x.isEmpty() && (!isRoot || opt.rootAttributes())) {
                sb.append(" xattrs=").append(new TreeMap<>(x));
            }
            out.put(rel, sb.toString());
        }
        return out;
    }

    /** Differences between two manifests, one line each; empty when equal. */
    public static List<String> diff(Map<String, String> expected, Map<String, String> actual) {
        List<String> d = new ArrayList<>();
        Set<String> all = new TreeSet<>(expected.keySet());
        all.addAll(actual.keySet());
        for (String k : all) {
            String e = expected.get(k);
            String a = actual.get(k);
            if (e == null) {
                d.add("only in actual: " + k + " " + a);
            } else if (a == null) {
                d.add("only in expected: " + k + " " + e);
            } else if (!e.equals(a)) {
                d.add(k + ":\n   expected " + e + "\n   actual   " + a);
            }
        }
        return d;
    }

    /** Fails with a readable message listing up to 20 differences. */
    public static void assertSame(Path expected, Path actual, Options opt) throws IOException {
        List<String> d = diff(of(expected, opt), of(actual, opt));
        if (!d.isEmpty()) {
            throw new AssertionError(d.size() + " differences between " + expected + " and " + actual + ":\n"
                    + String.join("\n", d.subList(0, Math.min(20, d.size()))));
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0100000 -> "file";
            case 0040000 -> "dir";
            case 0120000 -> "symlink";
            case 0020000 -> "chr";
            case 0060000 -> "blk";
            case 0010000 -> "fifo";
            case 0140000 -> "sock";
            default -> "unknown";
        };
    }

    private static String mtime(FileTime t) {
        long nanos = t.to(TimeUnit.NANOSECONDS);
        return Math.floorDiv(nanos, 1_000_000_000L) + "." + String.format("%09d", Math.floorMod(nanos, 1_000_000_000L));
    }

    private static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** All xattrs below root, by relative path, from one {@code getfattr -R} run. */
    static Map<String, Map<String, String>> xattrs(Path root) throws IOException {
        Process p = new ProcessBuilder("getfattr", "-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names",
                root.toAbsolutePath().toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        p.getInputStream().transferTo(bos);
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        Map<String, Map<String, String>> out = new HashMap<>();
        String abs = root.toAbsolutePath().toString();
        String current = null;
        for (String line : bos.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("# file: ")) {
                String path = unescape(line.substring(8));
                String rel = path.equals(abs) ? "." : path.substring(abs.length() + 1);
                current = rel;
                out.put(current, new TreeMap<>());
            } else if (current != null && line.contains("=")) {
                int eq = line.indexOf('=');
                out.get(current).put(unescape(line.substring(0, eq)), line.substring(eq + 1));
            } else if (current != null && !line.isBlank()) {
                out.get(current).put(unescape(line.trim()), "");
            }
        }
        return out;
    }

    /** Undoes getfattr's octal escapes ({@code \012}); the result is decoded as UTF-8. */
    private static String unescape(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
                b.write((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0'));
                i += 3;
            } else {
                b.write(raw[i]);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte c) {
        return c >= '0' && c <= '7';
    }
}
