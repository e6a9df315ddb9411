package io.nydus.builder;

import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Stacks an upper layer onto a lower tree the way a container runtime does: deletions first (whiteouts and opaque
 * directories hide lower entries), then additions and replacements. A directory over a directory merges; anything
 * else replaces the lower entry with its whole subtree. Whiteout markers never appear in the result.
 */
final class Overlay {
    private Overlay() {
    }

    /**
     * Applies {@code upper} onto {@code lower}, modifying {@code lower}. The upper tree is consumed.
     *
     * @param implicitDirs directories of the upper layer that no entry described: they keep the lower attributes
     */
    static void apply(Tree lower, Tree upper, WhiteoutSpec spec, Set<TreeInode> implicitDirs) {
        removals(lower.root(), upper.root(), spec);
        if (!implicitDirs.contains(upper.root().inode())) {
            lower.root().setInode(stripOpaque(upper.root().inode(), spec));
        }
        additions(lower.root(), upper.root(), spec, implicitDirs);
    }

    private static void removals(TreeEntry lowerDir, TreeEntry upperDir, WhiteoutSpec spec) {
        if (spec.isOpaque(upperDir)) {
            lowerDir.clearChildren();
            return;
        }
        for (TreeEntry u : upperDir.children()) {
            byte[] target = spec.whiteoutTarget(u);
            if (target != null) {
                lowerDir.remove(target);
            }
        }
        for (TreeEntry u : upperDir.children()) {
            if (u.isDir() && !spec.isMarker(u)) {
                TreeEntry l = lowerDir.child(u.name());
                if (l != null && l.isDir()) {
                    removals(l, u, spec);
                }
            }
        }
    }

    private static void additions(TreeEntry lowerDir, TreeEntry upperDir, WhiteoutSpec spec, Set<TreeInode> implicitDirs) {
        for (TreeEntry u : new ArrayList<>(upperDir.children())) {
            if (spec.isMarker(u)) {
                continue;
            }
            TreeEntry l = lowerDir.child(u.name());
            if (l != null && l.isDir() && u.isDir()) {
                if (!implicitDirs.contains(u.inode())) {
                    l.setInode(stripOpaque(u.inode(), spec));
                }
                additions(l, u, spec, implicitDirs);
            } else {
                upperDir.remove(u.name());
                stripMarkers(u, spec);
                lowerDir.put(u);
            }
        }
    }

    /** Removes markers from a subtree that has nothing below it to hide. */
    private static void stripMarkers(TreeEntry e, WhiteoutSpec spec) {
        if (!e.isDir()) {
            return;
        }
        e.setInode(stripOpaque(e.inode(), spec));
        List<TreeEntry> kids = new ArrayList<>(e.children());
        for (TreeEntry c : kids) {
            if (spec.isMarker(c)) {
                e.remove(c.name());
            } else {
                stripMarkers(c, spec);
            }
        }
    }

    private static TreeInode stripOpaque(TreeInode dir, WhiteoutSpec spec) {
        if (spec == WhiteoutSpec.OVERLAYFS && dir.xattrs.get(WhiteoutSpec.OVERLAY_OPAQUE_XATTR) != null) {
            dir.xattrs = dir.xattrs.without(WhiteoutSpec.OVERLAY_OPAQUE_XATTR);
        }
        return dir;
    }
}
