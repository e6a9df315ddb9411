package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What a user checks on a mounted image, with the bootstrap as the reference. */
final class ImageChecks {
    private ImageChecks() {
    }

    /**
     * Every entry of the bootstrap is at the mount with its type, permissions, size, link count, mtime (with
     * nanoseconds), inode number (hard links share it), symlink target and device number; every regular file's
     * bytes hash, chunk by chunk, to the digests the bootstrap records; directories list exactly their entries.
     *
     * @return number of entries checked
     */
    static int assertMountMatchesBootstrap(Path mnt, RafsSuper sb, boolean reportedInodes) throws IOException {
        List<RafsSuper.Entry> entries = new ArrayList<>();
        sb.walk(entries::add);
        Map<Long, Long> mountInoOf = new HashMap<>();
        // st_blocks is not among the JDK's attributes: one find(1) for all files.
        Map<String, Long> blocks = new HashMap<>();
        for (String line : run("find", mnt.toString(), "-type", "f", "-printf", "/%P\\0%b\\n").split("\n")) {
            int z = line.indexOf('\0');
            if (z > 0) {
                blocks.put(line.substring(0, z), Long.parseLong(line.substring(z + 1)));
            }
        }
        for (RafsSuper.Entry e : entries) {
            Path p = e.path().equals("/") ? mnt : mnt.resolve(e.path().substring(1));
            Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
            Inode in = e.inode();
            String where = e.path();
            int mode = (Integer) a.get("mode");
            if (e.path().equals("/")) {
                assertEquals(in.mode() & FileMode.S_IFMT, mode & FileMode.S_IFMT, where);
            } else {
                assertEquals(in.mode(), mode, where + " mode");
            }
            assertEquals(in.nlink(), ((Number) a.get("nlink")).longValue(), where + " nlink");
            long ino = ((Number) a.get("ino")).longValue();
            if (reportedInodes) {
                assertEquals(e.ino(), ino, where + " st_ino");
            }
            // Hard links: one st_ino per bootstrap inode, and different inodes never share one.
            Long seen = mountInoOf.putIfAbsent(e.ino(), ino);
            if (seen != null) {
                assertEquals(seen.longValue(), ino, where + " hard link st_ino");
            }
            if (in.mtime() != 0) {
                FileTime t = (FileTime) a.get("lastModifiedTime");
                long nanos = t.toInstant().getEpochSecond() * 1_000_000_000L + t.toInstant().getNano();
                assertEquals(in.mtime() * 1_000_000_000L + in.mtimeNsec(), nanos, where + " mtime");
            }
            if (in.isReg()) {
                assertEquals(in.size(), ((Number) a.get("size")).longValue(), where + " size");
                assertEquals(in.blocks(), blocks.get(e.path()), where + " st_blocks");
                assertChunks(p, sb, e.ino(), in);
            } else if (in.isSymlink()) {
                assertEquals(new String(sb.readlink(e.ino()), StandardCharsets.UTF_8),
                        Files.readSymbolicLink(p).toString(), where + " target");
            } else if (in.isDir()) {
                TreeSet<String> expected = new TreeSet<>();
                sb.readdir(e.ino(), 0, (name, child, m, next) -> expected.add(new String(name, StandardCharsets.UTF_8)));
                TreeSet<String> actual = new TreeSet<>();
                try (Stream<Path> s = Files.list(p)) {
                    s.forEach(c -> actual.add(c.getFileName().toString()));
                }
                assertEquals(expected, actual, where + " listing");
            } else if (FileMode.isChr(in.mode()) || FileMode.isBlk(in.mode())) {
                assertEquals(in.rdev(), ((Number) a.get("rdev")).longValue(), where + " rdev");
            }
        }
        assertEquals(mountInoOf.size(), new TreeSet<>(mountInoOf.values()).size(), "distinct inodes, distinct st_ino");
        return entries.size();
    }

    /** The file's bytes, chunk by chunk, against the chunk digests of the bootstrap. */
    static void assertChunks(Path p, RafsSuper sb, long ino, Inode in) throws IOException {
        byte[] data = Files.readAllBytes(p);
        assertEquals(in.size(), data.length, p + " bytes read");
        int cs = sb.chunkSize();
        for (int i = 0; i < in.chunkCount(); i++) {
            ChunkInfo c = sb.chunk(ino, i);
            int off = i * cs;
            int len = (int) Math.min(cs, data.length - (long) off);
            if (c.isHole()) {
                for (int k = off; k < off + len; k++) {
                    assertEquals(0, data[k], p + " hole byte " + k);
                }
            } else if (c.digest() != null) {
                assertArrayEquals(c.digest(), sb.digester().digest(data, off, len), p + " chunk " + i);
            }
        }
        assertTrue(in.chunkCount() > 0 || data.length == 0, p.toString());
    }

    static String run(String... cmd) throws IOException {
        Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            int code = pr.waitFor();
            if (code != 0) {
                throw new IOException(String.join(" ", cmd) + " exited " + code + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }
}
