package io.nydus.rafs.tree;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.TreeMap;

/**
 * A name in a directory, pointing at a {@link TreeInode}. Hard links are entries sharing one inode. Children of a
 * directory are kept sorted bytewise by name, the order both bootstrap formats store.
 */
public final class TreeEntry {
    private final byte[] name;
    private TreeEntry parent;
    private TreeInode inode;
    private TreeMap<byte[], TreeEntry> children;

    public TreeEntry(byte[] name, TreeInode inode) {
        this.name = name;
        this.inode = inode;
        if (inode.isDir()) {
            children = new TreeMap<>(Arrays::compareUnsigned);
        }
    }

    public byte[] name() {
        return name;
    }

    public String nameString() {
        return new String(name, StandardCharsets.UTF_8);
    }

    public TreeEntry parent() {
        return parent;
    }

    public TreeInode inode() {
        return inode;
    }

    /** Replaces what this name points at (a directory replaced by a non-directory loses its children). */
    public void setInode(TreeInode newInode) {
        this.inode = newInode;
        if (newInode.isDir()) {
            if (children == null) {
                children = new TreeMap<>(Arrays::compareUnsigned);
            }
        } else {
            children = null;
        }
    }

    public boolean isDir() {
        return inode.isDir();
    }

    public Collection<TreeEntry> children() {
        return children == null ? Collections.emptyList() : children.values();
    }

    public int childCount() {
        return children == null ? 0 : children.size();
    }

    public TreeEntry child(byte[] childName) {
        return children == null ? null : children.get(childName);
    }

    /** Adds or replaces the child of the same name; returns the entry replaced, if any. */
    public TreeEntry put(TreeEntry child) {
        if (children == null) {
            throw new IllegalStateException(nameString() + " is not a directory");
        }
        child.parent = this;
        TreeEntry old = children.put(child.name, child);
        if (old != null && old != child) {
            old.parent = null;
        }
        return old;
    }

    public TreeEntry remove(byte[] childName) {
        if (children == null) {
            return null;
        }
        TreeEntry old = children.remove(childName);
        if (old != null) {
            old.parent = null;
        }
        return old;
    }

    public void clearChildren() {
        if (children != null) {
            for (TreeEntry c : children.values()) {
                c.parent = null;
            }
            children.clear();
        }
    }

    /** Absolute path from the root ("/" for the root). */
    public String path() {
        if (parent == null) {
            return "/";
        }
        StringBuilder sb = new StringBuilder();
        buildPath(sb);
        return sb.toString();
    }

    private void buildPath(StringBuilder sb) {
        if (parent == null) {
            return;
        }
        parent.buildPath(sb);
        sb.append('/').append(nameString());
    }
}
