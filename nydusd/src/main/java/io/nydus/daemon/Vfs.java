package io.nydus.daemon;

import io.nydus.rafs.RafsFormatException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The namespace one FUSE mount serves: either a single image at its root, or a pseudo root under which images
 * are mounted at virtual paths ({@code /<id>}), as upstream's shared daemon does. Mount changes replace an
 * immutable snapshot; path resolution reads the current snapshot without locking and caches what it finds in a
 * {@link PathTable}.
 *
 * <p>Inode numbers: the image at the root reports its own; an image at a virtual path reports
 * {@code slot << 56 | ino} (upstream's VFS index shift), so inodes of different images never collide;
 * pseudo directories use slot 255.
 */
public final class Vfs {
    /** Upstream {@code VFS_INDEX_SHIFT}. */
    static final int INO_SHIFT = 56;
    /** Images at virtual paths get slots 1..254. */
    static final int MAX_SUBMOUNTS = 254;
    private static final long PSEUDO_BASE = 255L << INO_SHIFT;
    /** The pseudo root reports inode 1, as FUSE roots usually do. */
    static final long PSEUDO_ROOT_INO = 1;

    /** A directory that exists only because images are mounted below it. */
    static final class PseudoDir {
        private final long ino;
        private final TreeMap<String, Object> children = new TreeMap<>();
        private VfsNode node;

        PseudoDir(long ino) {
            this.ino = ino;
        }

        long ino() {
            return ino;
        }

        /** Names and targets (a {@link PseudoDir} or a {@link RafsImage}) in name order. */
        Map<String, Object> children() {
            return Collections.unmodifiableMap(children);
        }

        /** Number of sub-directories, for {@code st_nlink}. */
        int subdirs() {
            return children.size();
        }
    }

    private record Namespace(int generation, Map<String, RafsImage> mounts, VfsNode rootNode) {
    }

    private final PathTable paths;
    private final long startSecs = System.currentTimeMillis() / 1000;
    private final RafsImage[] slots = new RafsImage[MAX_SUBMOUNTS + 1];
    private volatile Namespace ns;

    public Vfs() {
        this(PathTable.DEFAULT_SLOTS);
    }

    Vfs(int pathSlots) {
        this.paths = new PathTable(pathSlots);
        this.ns = build(0, Map.of());
    }

    /** Time reported for pseudo directories. */
    long startSecs() {
        return startSecs;
    }

    /** Normalizes a virtual mountpoint: absolute, no "." or "..", no trailing or double slashes. */
    public static String normalize(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("mountpoint '" + path + "' is not an absolute path");
        }
        StringBuilder sb = new StringBuilder();
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("mountpoint '" + path + "' contains '" + part + "'");
            }
            sb.append('/').append(part);
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }

    /**
     * Mounts {@code image} at {@code path}. A path may not lie inside another mount or contain one; an image at
     * "/" is alone.
     */
    public synchronized void mount(String path, RafsImage image) {
        String p = normalize(path);
        Map<String, RafsImage> m = new LinkedHashMap<>(ns.mounts());
        for (String existing : m.keySet()) {
            if (existing.equals(p)) {
                throw new IllegalStateException("'" + p + "' is already mounted");
            }
            if (contains(existing, p) || contains(p, existing)) {
                throw new IllegalStateException("'" + p + "' overlaps the mount at '" + existing + "'");
            }
        }
        if (p.equals("/")) {
            image.setInoBase(0);
        } else {
            int slot = freeSlot();
            slots[slot] = image;
            image.setInoBase((long) slot << INO_SHIFT);
        }
        m.put(p, image);
        ns = build(ns.generation() + 1, m);
    }

    /** Replaces the image at {@code path} (remount); returns the old one. */
    public synchronized RafsImage replace(String path, RafsImage image) {
        String p = normalize(path);
        Map<String, RafsImage> m = new LinkedHashMap<>(ns.mounts());
        RafsImage old = m.get(p);
        if (old == null) {
            throw new IllegalArgumentException("nothing is mounted at '" + p + "'");
        }
        image.setInoBase(old.inoBase());
        for (int i = 1; i < slots.length; i++) {
            if (slots[i] == old) {
                slots[i] = image;
            }
        }
        m.put(p, image);
        ns = build(ns.generation() + 1, m);
        return old;
    }

    /** Removes the image at {@code path}; returns it. */
    public synchronized RafsImage umount(String path) {
        String p = normalize(path);
        Map<String, RafsImage> m = new LinkedHashMap<>(ns.mounts());
        RafsImage old = m.remove(p);
        if (old == null) {
            throw new IllegalArgumentException("nothing is mounted at '" + p + "'");
        }
        for (int i = 1; i < slots.length; i++) {
            if (slots[i] == old) {
                slots[i] = null;
            }
        }
        ns = build(ns.generation() + 1, m);
        return old;
    }

    private static boolean contains(String outer, String inner) {
        return outer.equals("/") || inner.startsWith(outer + "/");
    }

    private int freeSlot() {
        for (int i = 1; i < slots.length; i++) {
            if (slots[i] == null) {
                return i;
            }
        }
        throw new IllegalStateException("at most " + MAX_SUBMOUNTS + " images per FUSE mount");
    }

    private Namespace build(int generation, Map<String, RafsImage> mounts) {
        RafsImage rootImage = mounts.get("/");
        PseudoDir root = new PseudoDir(PSEUDO_ROOT_INO);
        long next = 1;
        if (rootImage == null) {
            for (Map.Entry<String, RafsImage> e : mounts.entrySet()) {
                String[] parts = e.getKey().substring(1).split("/");
                PseudoDir dir = root;
                for (int i = 0; i < parts.length - 1; i++) {
                    Object c = dir.children.get(parts[i]);
                    if (!(c instanceof PseudoDir)) {
                        c = new PseudoDir(PSEUDO_BASE | next++);
                        dir.children.put(parts[i], c);
                    }
                    dir = (PseudoDir) c;
                }
                dir.children.put(parts[parts.length - 1], e.getValue());
            }
            setNodes(root, generation);
        }
        VfsNode rootNode = rootImage != null ? new VfsNode(rootImage, rootImage.rootIno(), null, generation)
                : root.node;
        return new Namespace(generation, Collections.unmodifiableMap(mounts), rootNode);
    }

    private static void setNodes(PseudoDir dir, int generation) {
        dir.node = new VfsNode(null, dir.ino, dir, generation);
        for (Object c : dir.children.values()) {
            if (c instanceof PseudoDir d) {
                setNodes(d, generation);
            }
        }
    }

    /** The node of the FUSE root. */
    public VfsNode root() {
        return ns.rootNode();
    }

    /** The node a FUSE path names, or null when nothing does. */
    public VfsNode resolve(String path) {
        Namespace n = ns;
        if (path.length() <= 1) {
            return n.rootNode();
        }
        VfsNode cached = paths.get(path, n.generation());
        if (cached != null) {
            return cached;
        }
        int cut = path.lastIndexOf('/');
        VfsNode parent = cut <= 0 ? n.rootNode() : resolve(path.substring(0, cut));
        if (parent == null) {
            return null;
        }
        VfsNode child = child(parent, path.substring(cut + 1), n.generation());
        if (child != null) {
            paths.put(path, child);
        }
        return child;
    }

    /** The entry {@code name} (a FUSE string, see {@link FuseStrings}) of a directory node. */
    VfsNode child(VfsNode parent, String name, int generation) {
        if (parent.isPseudo()) {
            Object c = parent.pseudo().children.get(FuseStrings.toUnicode(name));
            if (c instanceof PseudoDir d) {
                return d.node;
            }
            if (c instanceof RafsImage img) {
                return new VfsNode(img, img.rootIno(), null, generation);
            }
            return null;
        }
        try {
            long ino = parent.image().superblock().lookup(parent.ino(), FuseStrings.bytes(name));
            return ino < 0 ? null : new VfsNode(parent.image(), ino, null, generation);
        } catch (RafsFormatException e) {
            // The parent is not a directory (the kernel does not ask that), or the bootstrap is damaged.
            return null;
        }
    }
}
