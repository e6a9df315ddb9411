package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/** Disk usage and removal of snapshot directories, never crossing into a mount. */
public final class FileTree {
    private FileTree() {
    }

    /** containerd's usage of a layer: bytes of regular files and distinct inodes, not following links. */
    public record Usage(long size, long inodes) {
    }

    public static Usage usage(Path dir) {
        if (!Files.isDirectory(dir)) {
            return new Usage(0, 0);
        }
        Set<Object> seen = new HashSet<>();
        long[] size = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                    seen.add(a.fileKey());
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                    if (seen.add(a.fileKey()) && a.isRegularFile()) {
                        size[0] += a.size();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Code.INTERNAL, "usage of " + dir + ": " + e.getMessage(), e);
        }
        return new Usage(size[0], seen.size());
    }

    /**
     * Removes {@code dir} recursively. Mounts below it are unmounted first; if one cannot be, the tree is left
     * in place (returns false) rather than deleting through it into someone else's files.
     */
    public static boolean delete(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        if (!MountTable.unmountAll(dir)) {
            return false;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                deleteIfExists(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                deleteIfExists(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
        return true;
    }

    private static void deleteIfExists(Path p) throws IOException {
        try {
            Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
            // raced with another remover: fine
        }
    }
}
