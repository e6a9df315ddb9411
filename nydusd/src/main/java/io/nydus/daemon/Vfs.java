package io.nydus.daemon;

import io.nydus.rafs.RafsFormatException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The namespace one FUSE mount serves: either a single image at its root, or a pseudo root under which images
 * are mounted at virtual paths ({@code /<id>}), as upstream's shared daemon does. Mount changes replace an
 * immutable snapshot; requests read the current snapshot without locking.
 *
 * <p>Inode numbers: the image at the root reports its own; an image at a virtual path reports
 * {@code slot << 56 | ino} (upstream's VFS index shift), so inodes of different images never collide;
 * pseudo directories use slot 255.
 *
 * <p>FUSE node ids name nodes without a table, so the kernel may keep any number of them:
 * <pre>
 * | bits  | image inode               | pseudo directory        |
 * | 63-56 | slot (0: the root image)  | 255                     |
 * | 55-40 | the slot's mount count    | 0                       |
 * | 39-0  | inode number + 2          | number, fixed per path  |
 * </pre>
 * The FUSE root is always id 1. A slot's mount count changes when an image is mounted into it, so ids handed
 * out for an image that has since been replaced or unmounted are refused as stale instead of naming another
 * image's inode; the kernel then looks the path up again.
 */
public final class Vfs {
    /** Upstream {@code VFS_INDEX_SHIFT}. */
    static final int INO_SHIFT = 56;
    /** Images at virtual paths get slots 1..254. */
    static final int MAX_SUBMOUNTS = 254;
    private static final long PSEUDO_BASE = 255L << INO_SHIFT;
    /** The pseudo root reports inode 1, as FUSE roots usually do. */
    static final long PSEUDO_ROOT_INO = 1;
    private static final int PSEUDO_SLOT = 255;
    private static final int COUNT_SHIFT = 40;
    private static final long INO_MASK = (1L << COUNT_SHIFT) - 1;
    /** Inode numbers are offset so that no image inode gets id 0 (invalid) or 1 (the root). */
    private static final long INO_OFFSET = 2;

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

    /**
     * One state of the namespace. {@code images[slot]} is the image in a slot (0: the one at "/"), with
     * {@code nodeBases[slot]} the high bits of its node ids.
     */
    private record Namespace(Map<String, RafsImage> mounts, VfsNode rootNode, RafsImage[] images, long[] nodeBases,
            Map<Long, PseudoDir> pseudoDirs) {
    }

    private final long startSecs = System.currentTimeMillis() / 1000;
    private final RafsImage[] slots = new RafsImage[MAX_SUBMOUNTS + 1];
    private final int[] mountCounts = new int[MAX_SUBMOUNTS + 1];
    /** Pseudo directory numbers by path, never reused, so a directory keeps its node id across mount changes. */
    private final Map<String, Long> pseudoNumbers = new HashMap<>();
    /** Slots a predecessor's mounts had, by path, until mounted again ({@link #restore}). */
    private final Map<String, Integer> restoring = new HashMap<>();
    private volatile Namespace ns;

    public Vfs() {
        this.ns = build(Map.of());
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
        Integer restored = restoring.remove(p);
        int slot = restored != null && slots[restored] == null ? restored : p.equals("/") ? 0 : freeSlot();
        slots[slot] = image;
        if (restored == null) {
            mountCounts[slot]++;
        }
        image.setInoBase((long) slot << INO_SHIFT);
        m.put(p, image);
        ns = build(m);
    }

    /**
     * What node ids depend on besides the images: each mount's slot, the slots' mount counts, the pseudo
     * directories' numbers. A daemon taking over a FUSE connection restores it before mounting the same images,
     * so the ids the kernel holds keep naming the same nodes.
     */
    record Layout(Map<String, Integer> slots, int[] mountCounts, Map<String, Long> pseudoNumbers) {
    }

    synchronized Layout layout() {
        Map<String, Integer> bySlot = new LinkedHashMap<>();
        ns.mounts().forEach((path, img) -> bySlot.put(path, (int) (img.inoBase() >>> INO_SHIFT)));
        return new Layout(bySlot, mountCounts.clone(), new HashMap<>(pseudoNumbers));
    }

    /** Before anything is mounted: the next mounts of {@code l}'s paths go back to their slots and counts. */
    synchronized void restore(Layout l) {
        if (!ns.mounts().isEmpty()) {
            throw new IllegalStateException("restore before mounting");
        }
        System.arraycopy(l.mountCounts(), 0, mountCounts, 0, Math.min(mountCounts.length, l.mountCounts().length));
        pseudoNumbers.putAll(l.pseudoNumbers());
        restoring.putAll(l.slots());
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
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == old) {
                slots[i] = image;
                mountCounts[i]++;
            }
        }
        m.put(p, image);
        ns = build(m);
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
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == old) {
                slots[i] = null;
            }
        }
        ns = build(m);
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

    private Namespace build(Map<String, RafsImage> mounts) {
        RafsImage rootImage = mounts.get("/");
        PseudoDir root = new PseudoDir(PSEUDO_ROOT_INO);
        Map<Long, PseudoDir> pseudoDirs = new HashMap<>();
        if (rootImage == null) {
            for (Map.Entry<String, RafsImage> e : mounts.entrySet()) {
                String[] parts = e.getKey().substring(1).split("/");
                PseudoDir dir = root;
                StringBuilder path = new StringBuilder();
                for (int i = 0; i < parts.length - 1; i++) {
                    path.append('/').append(parts[i]);
                    Object c = dir.children.get(parts[i]);
                    if (!(c instanceof PseudoDir)) {
                        long number = pseudoNumbers.computeIfAbsent(path.toString(), k -> pseudoNumbers.size() + 2L);
                        PseudoDir d = new PseudoDir(PSEUDO_BASE | number);
                        pseudoDirs.put(d.ino, d);
                        c = d;
                        dir.children.put(parts[i], c);
                    }
                    dir = (PseudoDir) c;
                }
                dir.children.put(parts[parts.length - 1], e.getValue());
            }
            setNodes(root);
        }
        long[] bases = new long[slots.length];
        for (int i = 0; i < slots.length; i++) {
            bases[i] = (long) i << INO_SHIFT | (long) (mountCounts[i] & 0xffff) << COUNT_SHIFT;
        }
        VfsNode rootNode = rootImage != null ? new VfsNode(rootImage, rootImage.rootIno(), null) : root.node;
        return new Namespace(Collections.unmodifiableMap(mounts), rootNode, slots.clone(), bases, pseudoDirs);
    }

    private static void setNodes(PseudoDir dir) {
        dir.node = new VfsNode(null, dir.ino, dir);
        for (Object c : dir.children.values()) {
            if (c instanceof PseudoDir d) {
                setNodes(d);
            }
        }
    }

    /** The node of the FUSE root. */
    public VfsNode root() {
        return ns.rootNode();
    }

    /** The FUSE node id of {@code n}; 0 (no id) for an inode number too large to encode. */
    long nodeId(VfsNode n) {
        Namespace s = ns;
        if (n.isPseudo()) {
            return n.ino() == PSEUDO_ROOT_INO ? FuseProtocol.ROOT_ID : n.ino();
        }
        if (n.image() == s.images()[0] && n.ino() == n.image().rootIno()) {
            return FuseProtocol.ROOT_ID;
        }
        long ino = n.ino() + INO_OFFSET;
        if (ino < INO_OFFSET || ino > INO_MASK) {
            return 0;
        }
        return s.nodeBases()[(int) (n.image().inoBase() >>> INO_SHIFT)] | ino;
    }

    /**
     * The node a FUSE node id names, or null when it names nothing now (an image replaced or unmounted since
     * the id was handed out, a pseudo directory that is gone).
     */
    VfsNode node(long nodeId) {
        Namespace s = ns;
        if (nodeId == FuseProtocol.ROOT_ID) {
            return s.rootNode();
        }
        int slot = (int) (nodeId >>> INO_SHIFT);
        if (slot == PSEUDO_SLOT) {
            PseudoDir d = s.pseudoDirs().get(nodeId);
            return d == null ? null : d.node;
        }
        RafsImage img = s.images()[slot];
        if (img == null || (nodeId & ~INO_MASK) != s.nodeBases()[slot] || (nodeId & INO_MASK) < INO_OFFSET) {
            return null;
        }
        return new VfsNode(img, (nodeId & INO_MASK) - INO_OFFSET, null);
    }

    /** The node a pseudo directory's entry names: a pseudo directory or an image's root. */
    static VfsNode node(Object pseudoEntry) {
        if (pseudoEntry instanceof PseudoDir d) {
            return d.node;
        }
        RafsImage img = (RafsImage) pseudoEntry;
        return new VfsNode(img, img.rootIno(), null);
    }

    /** The entry {@code name} (bytes as the kernel passed them) of a directory node. */
    VfsNode child(VfsNode parent, byte[] name) {
        if (parent.isPseudo()) {
            Object c = parent.pseudo().children.get(new String(name, StandardCharsets.UTF_8));
            return c == null ? null : node(c);
        }
        try {
            long ino = parent.image().superblock().lookup(parent.ino(), name);
            return ino < 0 ? null : new VfsNode(parent.image(), ino, null);
        } catch (RafsFormatException e) {
            // The parent is not a directory (the kernel does not ask that), or the bootstrap is damaged.
            return null;
        }
    }
}
