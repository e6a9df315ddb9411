package io.nydus.builder;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads a directory tree (no symlinks followed) into a {@link TreeBuilder}, in bytewise name order so that builds
 * are reproducible. Hard links (same device and inode) share one {@link TreeInode}.
 */
final class DirectoryReader {
    private DirectoryReader() {
    }

    static void read(Path root, TreeBuilder tree, ChunkPipeline pipeline, Warnings warnings) throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new BadInputException(root + " is not a directory");
        }
        Map<String, TreeInode> links = new HashMap<>();
        Deque<Path> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Path p = stack.pop();
            String rel = root.relativize(p).toString();
            Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            long nlink = ((Number) a.get("nlink")).longValue();
            String key = a.get("dev") + ":" + a.get("ino");
            List<byte[]> comps = TreeBuilder.components(rel);
            if (!FileMode.isDir(mode) && nlink > 1) {
                TreeInode shared = links.get(key);
                if (shared != null) {
                    tree.put(comps, shared);
                    continue;
                }
            }
            TreeInode inode = new TreeInode(mode);
            inode.uid = ((Number) a.get("uid")).longValue();
            inode.gid = ((Number) a.get("gid")).longValue();
            Instant t = ((FileTime) a.get("lastModifiedTime")).toInstant();
            inode.mtime = t.getEpochSecond();
            inode.mtimeNsec = t.getNano();
            inode.xattrs = XattrFilter.filter(LinuxXattrs.read(p), "/" + rel, warnings);
            if (FileMode.isSymlink(mode)) {
                inode.symlinkTarget = Files.readSymbolicLink(p).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            } else if (FileMode.isChr(mode) || FileMode.isBlk(mode)) {
                inode.rdev = ((Number) a.get("rdev")).longValue();
            } else if (FileMode.isReg(mode)) {
                long size = ((Number) a.get("size")).longValue();
                try (InputStream in = Files.newInputStream(p)) {
                    pipeline.addFile(inode, in, size);
                } catch (ChunkPipeline.SourceReadException e) {
                    throw new IOException(p + ": " + e.getMessage() + " (was the file changed during the build?)", e);
                }
            }
            if (!FileMode.isDir(mode) && nlink > 1) {
                links.put(key, inode);
            }
            tree.put(comps, inode);
            if (FileMode.isDir(mode)) {
                List<Path> kids = new ArrayList<>();
                try (Stream<Path> s = Files.list(p)) {
                    s.forEach(kids::add);
                }
                kids.sort((x, y) -> Arrays.compareUnsigned(name(x), name(y)));
                for (int i = kids.size() - 1; i >= 0; i--) {
                    stack.push(kids.get(i));
                }
            }
        }
    }

    private static byte[] name(Path p) {
        return p.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
