package io.nydus.snapshotter;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One snapshot as the store keeps it: containerd's {@code Info} (name, parent, kind, times, labels) plus the
 * numeric id naming its directory {@code <root>/snapshots/<id>} and, once committed, its usage.
 *
 * @param parentIds ids of the parent chain, nearest first (filled when read with its chain, else empty)
 */
public record Snapshot(long id, String name, String parent, Kind kind, Map<String, String> labels,
        Instant created, Instant updated, long size, long inodes, List<Long> parentIds) {

    public Snapshot {
        labels = Map.copyOf(labels);
        parentIds = List.copyOf(parentIds);
        parent = parent == null ? "" : parent;
    }

    public String label(String key) {
        return labels.get(key);
    }

    public Snapshot withParentIds(List<Long> ids) {
        return new Snapshot(id, name, parent, kind, labels, created, updated, size, inodes, ids);
    }
}
