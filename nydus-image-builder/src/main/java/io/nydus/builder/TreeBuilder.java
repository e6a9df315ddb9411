package io.nydus.builder;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link Tree} from entries that arrive in any order, as in a tar: missing parent directories are
 * created (0755, root), and a later entry for the same path wins (a directory replacing a directory keeps the
 * children, anything else replaces the entry).
 */
final class TreeBuilder {
    private final Tree tree = Tree.empty();
    /** Directories made up for missing parents (and the root until a "." entry arrives): they carry no attributes. */
    private final Set<TreeInode> implicit = Collections.newSetFromMap(new IdentityHashMap<>());

    TreeBuilder() {
        implicit.add(tree.root().inode());
    }

    Tree tree() {
        return tree;
    }

    /** Inodes of directories no entry described; an overlay must not let them override a lower layer. */
    Set<TreeInode> implicitDirs() {
        return implicit;
    }

    /**
     * Splits an archive path into validated components; the root is the empty list.
     *
     * @throws BadInputException for absolute paths, ".." components and empty names
     */
    static List<byte[]> components(String path) throws BadInputException {
        if (path.startsWith("/")) {
            throw new BadInputException("entry '" + path + "' has an absolute path");
        }
        List<byte[]> out = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new BadInputException("entry '" + path + "' contains '..'");
            }
            if (part.indexOf('\0') >= 0) {
                throw new BadInputException("entry '" + path + "' contains a NUL byte");
            }
            byte[] b = part.getBytes(StandardCharsets.UTF_8);
            if (b.length > 255) {
                throw new BadInputException("entry '" + path + "' has a name longer than 255 bytes");
            }
            out.add(b);
        }
        return out;
    }

    TreeEntry lookup(List<byte[]> comps) {
        TreeEntry e = tree.root();
        for (byte[] c : comps) {
            e = e.child(c);
            if (e == null) {
                return null;
            }
        }
        return e;
    }

    /** Adds or replaces the entry at {@code comps}; returns it. */
    TreeEntry put(List<byte[]> comps, TreeInode inode) {
        if (comps.isEmpty()) {
            if (!inode.isDir()) {
                throw new IllegalArgumentException("the root must be a directory");
            }
            tree.root().setInode(inode);
            return tree.root();
        }
        TreeEntry parent = directories(comps.subList(0, comps.size() - 1));
        byte[] name = comps.get(comps.size() - 1);
        TreeEntry existing = parent.child(name);
        if (existing != null) {
            existing.setInode(inode);
            return existing;
        }
        TreeEntry e = new TreeEntry(name, inode);
        parent.put(e);
        return e;
    }

    /** Makes sure every component is a directory, creating or replacing as needed; returns the last one. */
    private TreeEntry directories(List<byte[]> comps) {
        TreeEntry e = tree.root();
        for (byte[] c : comps) {
            TreeEntry next = e.child(c);
            if (next == null) {
                next = new TreeEntry(c, new TreeInode(FileMode.S_IFDIR | 0755));
                implicit.add(next.inode());
                e.put(next);
            } else if (!next.isDir()) {
                next.setInode(new TreeInode(FileMode.S_IFDIR | 0755));
                implicit.add(next.inode());
            }
            e = next;
        }
        return e;
    }
}
