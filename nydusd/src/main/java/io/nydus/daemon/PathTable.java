package io.nydus.daemon;

/**
 * A bounded cache from the paths libfuse passes to the node they name. libfuse 2's high-level API identifies
 * files by path; resolving each path from the root would cost one directory search per component on every call.
 * The kernel looks a path's parent up before the path itself, so resolving through this table costs one lookup
 * per new name. Direct-mapped: a slot holds the last path that hashed to it, so memory is fixed whatever the
 * size of the image, and lookups and inserts take no lock.
 */
final class PathTable {
    /** Default number of slots: a few MiB of paths, enough for the working set of a container. */
    static final int DEFAULT_SLOTS = 1 << 15;

    private record Entry(String path, VfsNode node) {
    }

    private final Entry[] slots;
    private final int mask;

    PathTable(int slots) {
        int n = Integer.highestOneBit(Math.max(16, slots - 1)) << 1;
        this.slots = new Entry[n];
        this.mask = n - 1;
    }

    private int slot(String path) {
        int h = path.hashCode();
        return (h ^ (h >>> 16)) & mask;
    }

    /** The cached node of {@code path} if it was resolved in namespace generation {@code generation}. */
    VfsNode get(String path, int generation) {
        Entry e = slots[slot(path)];
        if (e != null && e.node.generation() == generation && e.path.equals(path)) {
            return e.node;
        }
        return null;
    }

    void put(String path, VfsNode node) {
        slots[slot(path)] = new Entry(path, node);
    }
}
