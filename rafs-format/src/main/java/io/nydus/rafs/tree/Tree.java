package io.nydus.rafs.tree;

import io.nydus.rafs.FileMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;

/** A filesystem tree ready to be written as a bootstrap. */
public final class Tree {
    private final TreeEntry root;

    public Tree(TreeEntry root) {
        if (!root.isDir()) {
            throw new IllegalArgumentException("the root of a tree must be a directory");
        }
        this.root = root;
    }

    /** An empty tree whose root is a 0755 directory owned by root. */
    public static Tree empty() {
        return new Tree(new TreeEntry(new byte[0], new TreeInode(FileMode.S_IFDIR | 0755)));
    }

    public TreeEntry root() {
        return root;
    }

    /** The entry at an absolute or relative path, or null. */
    public TreeEntry lookup(String path) {
        TreeEntry e = root;
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            e = e.child(part.getBytes(StandardCharsets.UTF_8));
            if (e == null) {
                return null;
            }
        }
        return e;
    }

    /**
     * Entries in inode-index order: the root, then for each directory all of its children before any grandchild,
     * recursing into child directories in name order (per-directory breadth, global depth first). Both bootstrap
     * formats number inodes this way.
     */
    public List<TreeEntry> indexOrder() {
        return indexOrder((dir, firstChild) -> { });
    }

    /**
     * Like {@link #indexOrder()}, also telling each directory's first child index: the index the next entry gets
     * when the directory is processed (so an empty directory carries the current next index, as in v5).
     */
    public List<TreeEntry> indexOrder(ObjLongConsumer<TreeEntry> firstChildIndex) {
        List<TreeEntry> out = new ArrayList<>();
        out.add(root);
        Deque<TreeEntry> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            TreeEntry dir = stack.pop();
            firstChildIndex.accept(dir, out.size() + 1);
            List<TreeEntry> subdirs = new ArrayList<>();
            for (TreeEntry c : dir.children()) {
                out.add(c);
                if (c.isDir()) {
                    subdirs.add(c);
                }
            }
            for (int i = subdirs.size() - 1; i >= 0; i--) {
                stack.push(subdirs.get(i));
            }
        }
        return out;
    }

    /** Visits every entry in depth-first pre-order (a node, then each child subtree in name order). */
    public void preOrder(Consumer<TreeEntry> visitor) {
        Deque<TreeEntry> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            TreeEntry e = stack.pop();
            visitor.accept(e);
            List<TreeEntry> kids = new ArrayList<>(e.children());
            for (int i = kids.size() - 1; i >= 0; i--) {
                stack.push(kids.get(i));
            }
        }
    }
}
