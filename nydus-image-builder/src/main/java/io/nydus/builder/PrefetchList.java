package io.nydus.builder;

import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves prefetch patterns (absolute paths, one per line) to tree entries; a path below another listed path is
 * dropped, as upstream does, and paths that do not exist are reported.
 */
final class PrefetchList {
    private PrefetchList() {
    }

    static List<TreeEntry> resolve(Tree tree, List<String> patterns, Warnings warnings) {
        List<String> paths = new ArrayList<>();
        for (String p : patterns) {
            String t = p.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (!t.startsWith("/")) {
                warnings.add("prefetch pattern is not an absolute path, skipped", t);
                continue;
            }
            while (t.length() > 1 && t.endsWith("/")) {
                t = t.substring(0, t.length() - 1);
            }
            paths.add(t);
        }
        List<TreeEntry> out = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (String p : paths.stream().sorted().distinct().toList()) {
            boolean covered = kept.stream().anyMatch(k -> k.equals("/") || p.startsWith(k + "/"));
            if (covered) {
                continue;
            }
            TreeEntry e = tree.lookup(p);
            if (e == null) {
                warnings.add("prefetch path not found in the image, skipped", p);
                continue;
            }
            kept.add(p);
            out.add(e);
        }
        return out;
    }
}
