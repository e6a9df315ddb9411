package io.nydus.snapshotter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;

/**
 * Snapshot metadata (and the records of running nydusd daemons) in an H2 MVStore file {@code <root>/metadata.mv.db}.
 * Every write runs in {@link #write}: the changes become durable together at {@code commit()} + {@code sync()}, or
 * are rolled back together when the body throws, so a snapshotter killed at any moment restarts from the last
 * whole operation. One lock serialises the callers; the operations are a few map accesses each.
 *
 * <p>Rules are containerd's ({@code snapshots/storage/bolt.go}): only active or view snapshots are created, a
 * parent must exist and be committed, names are unique across kinds, only an active snapshot is committed, a
 * snapshot with children is not removed.
 */
public final class SnapshotStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> RECORD = new TypeReference<>() { };

    private final MVStore store;
    private final MVMap<String, String> snapshots;
    private final MVMap<String, String> daemons;
    private final MVMap<String, Long> counters;
    private final ReentrantLock lock = new ReentrantLock();

    private SnapshotStore(MVStore store) {
        this.store = store;
        this.snapshots = store.openMap("snapshots");
        this.daemons = store.openMap("daemons");
        this.counters = store.openMap("counters");
    }

    /** Opens (or creates) the store under {@code root}; fails if another snapshotter holds it. */
    public static SnapshotStore open(Path root) throws IOException {
        Files.createDirectories(root);
        Path file = root.resolve("metadata.mv.db");
        try {
            return new SnapshotStore(new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open());
        } catch (MVStoreException e) {
            throw new IOException("cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code body} as one transaction. */
    public <T> T write(Function<Tx, T> body) {
        lock.lock();
        try {
            T result;
            try {
                result = body.apply(new Tx());
            } catch (RuntimeException | Error e) {
                store.rollback();
                throw e;
            }
            store.commit();
            store.sync();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code body} with a consistent view; it must not write. */
    public <T> T read(Function<Tx, T> body) {
        lock.lock();
        try {
            return body.apply(new Tx());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!store.isClosed()) {
                store.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The operations available inside {@link #write} and {@link #read}. */
    public final class Tx {
        private Tx() {
        }

        public Optional<Snapshot> find(String key) {
            String json = snapshots.get(key);
            return json == null ? Optional.empty() : Optional.of(decode(key, json));
        }

        /** The snapshot {@code key}, without its parent chain ids; NotFound when absent. */
        public Snapshot get(String key) {
            return find(key).orElseThrow(() -> SnapshotException.notFound("snapshot " + key + " does not exist"));
        }

        /** The parent chain of {@code s} as snapshots, nearest first; NotFound naming a missing link. */
        public List<Snapshot> parents(Snapshot s) {
            List<Snapshot> chain = new ArrayList<>();
            String p = s.parent();
            while (!p.isEmpty()) {
                String name = p;
                Snapshot ps = find(p).orElseThrow(() -> SnapshotException.notFound("missing parent " + name));
                chain.add(ps);
                p = ps.parent();
                if (chain.size() > 100_000) {
                    throw new SnapshotException(SnapshotException.Code.INTERNAL, "parent loop at " + s.name());
                }
            }
            return chain;
        }

        public Snapshot create(Kind kind, String key, String parent, Map<String, String> labels) {
            if (kind != Kind.ACTIVE && kind != Kind.VIEW) {
                throw SnapshotException.invalidArgument("snapshot type " + kind + " invalid; only active or view");
            }
            if (key.isEmpty()) {
                throw SnapshotException.invalidArgument("snapshot key must not be empty");
            }
            if (!parent.isEmpty()) {
                Snapshot p = find(parent).orElseThrow(
                        () -> SnapshotException.notFound("missing parent \"" + parent + "\""));
                if (p.kind() != Kind.COMMITTED) {
                    throw SnapshotException.invalidArgument("parent \"" + parent + "\" is not committed snapshot");
                }
            }
            if (snapshots.containsKey(key)) {
                throw SnapshotException.alreadyExists("snapshot " + key + " already exists");
            }
            long id = nextId();
            Instant now = Instant.now();
            Snapshot s = new Snapshot(id, key, parent, kind, labels, now, now, 0, 0, List.of());
            snapshots.put(key, encode(s));
            return s;
        }

        /** Commits active {@code key} as {@code name}; the committed labels replace the active's. */
        public Snapshot commit(String key, String name, Map<String, String> labels, long size, long inodes) {
            if (name.isEmpty()) {
                throw SnapshotException.invalidArgument("committed snapshot name must not be empty");
            }
            if (snapshots.containsKey(name)) {
                throw SnapshotException.alreadyExists("committed snapshot " + name + " already exists");
            }
            Snapshot s = find(key).orElseThrow(
                    () -> SnapshotException.notFound("failed to get active snapshot \"" + key + "\""));
            if (s.kind() != Kind.ACTIVE) {
                throw SnapshotException.failedPrecondition("snapshot \"" + key + "\" is not active");
            }
            Instant now = Instant.now();
            Snapshot c = new Snapshot(s.id(), name, s.parent(), Kind.COMMITTED, labels, now, now, size, inodes,
                    List.of());
            snapshots.remove(key);
            snapshots.put(name, encode(c));
            return c;
        }

        /** Removes {@code key}; FailedPrecondition while it has children. */
        public Snapshot remove(String key) {
            Snapshot s = find(key).orElseThrow(() -> SnapshotException.notFound("snapshot " + key + " does not exist"));
            for (Map.Entry<String, String> e : snapshots.entrySet()) {
                if (key.equals(decode(e.getKey(), e.getValue()).parent())) {
                    throw SnapshotException.failedPrecondition("cannot remove snapshot " + key + " with child");
                }
            }
            snapshots.remove(key);
            return s;
        }

        /** Replaces the labels of {@code name}: all of them, or only the given field paths. */
        public Snapshot updateLabels(String name, Map<String, String> labels, List<String> paths) {
            Snapshot s = find(name).orElseThrow(() -> SnapshotException.notFound("snapshot " + name + " does not exist"));
            Map<String, String> updated;
            if (paths.isEmpty()) {
                updated = labels;
            } else {
                updated = new TreeMap<>(s.labels());
                for (String path : paths) {
                    if (path.startsWith("labels.")) {
                        String k = path.substring("labels.".length());
                        String v = labels.get(k);
                        if (v == null || v.isEmpty()) {
                            updated.remove(k);
                        } else {
                            updated.put(k, v);
                        }
                    } else if (path.equals("labels")) {
                        updated = new TreeMap<>(labels);
                    } else {
                        throw SnapshotException.invalidArgument(
                                "cannot update \"" + path + "\" field on snapshot \"" + name + "\"");
                    }
                }
            }
            Snapshot u = new Snapshot(s.id(), s.name(), s.parent(), s.kind(), updated, s.created(), Instant.now(),
                    s.size(), s.inodes(), List.of());
            snapshots.put(name, encode(u));
            return u;
        }

        public List<Snapshot> all() {
            List<Snapshot> all = new ArrayList<>();
            for (Map.Entry<String, String> e : snapshots.entrySet()) {
                all.add(decode(e.getKey(), e.getValue()));
            }
            return all;
        }

        /** Daemon records by id (see {@code NydusdRecord}). */
        public Map<String, String> daemons() {
            return new TreeMap<>(daemons);
        }

        public void putDaemon(String id, String json) {
            daemons.put(id, json);
        }

        public void removeDaemon(String id) {
            daemons.remove(id);
        }

        private long nextId() {
            long id = counters.getOrDefault("snapshot-id", 0L) + 1;
            counters.put("snapshot-id", id);
            return id;
        }
    }

    private static String encode(Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("kind", s.kind().name());
        m.put("parent", s.parent());
        m.put("labels", new TreeMap<>(s.labels()));
        m.put("created", s.created().toString());
        m.put("updated", s.updated().toString());
        m.put("size", s.size());
        m.put("inodes", s.inodes());
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Snapshot decode(String name, String json) {
        try {
            Map<String, Object> m = JSON.readValue(json, RECORD);
            return new Snapshot(((Number) m.get("id")).longValue(), name, (String) m.get("parent"),
                    Kind.valueOf((String) m.get("kind")), (Map<String, String>) m.get("labels"),
                    Instant.parse((String) m.get("created")), Instant.parse((String) m.get("updated")),
                    ((Number) m.get("size")).longValue(), ((Number) m.get("inodes")).longValue(), List.of());
        } catch (IOException | RuntimeException e) {
            throw new SnapshotException(SnapshotException.Code.INTERNAL, "corrupt record of snapshot " + name, e);
        }
    }
}
