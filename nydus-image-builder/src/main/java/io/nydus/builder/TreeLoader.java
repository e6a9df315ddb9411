package io.nydus.builder;

import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/** Turns a bootstrap back into a {@link Tree} (for {@code --parent-bootstrap} and {@code merge}). */
final class TreeLoader {
    private TreeLoader() {
    }

    static Tree load(RafsSuper sb) throws IOException {
        Map<String, TreeEntry> dirs = new HashMap<>();
        Map<Long, TreeInode> links = new HashMap<>();
        Tree[] out = new Tree[1];
        sb.walk(e -> {
            Inode in = e.inode();
            TreeInode ti = in.nlink() > 1 && !in.isDir() ? links.get(e.ino()) : null;
            boolean shared = ti != null;
            if (!shared) {
                ti = new TreeInode(in.mode());
                ti.uid = in.uid();
                ti.gid = in.gid();
                ti.mtime = in.mtime();
                ti.mtimeNsec = in.mtimeNsec();
                ti.rdev = in.rdev();
                ti.xattrs = sb.xattrs(e.ino());
                if (in.isSymlink()) {
                    ti.symlinkTarget = sb.readlink(e.ino());
                } else if (in.isReg()) {
                    ti.size = in.size();
                    ti.chunks = new java.util.ArrayList<>(sb.chunks(e.ino()));
                }
                if (in.nlink() > 1 && !in.isDir()) {
                    links.put(e.ino(), ti);
                }
            }
            TreeEntry entry = new TreeEntry(e.name(), ti);
            if (e.path().equals("/")) {
                out[0] = new Tree(entry);
            } else {
                String parent = e.path().substring(0, e.path().lastIndexOf('/'));
                dirs.get(parent.isEmpty() ? "/" : parent).put(entry);
            }
            if (in.isDir()) {
                dirs.put(e.path(), entry);
            }
        });
        return out[0];
    }
}
