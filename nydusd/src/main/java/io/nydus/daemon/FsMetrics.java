package io.nydus.daemon;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Filesystem operation statistics of one mounted image, exported as upstream's {@code GlobalIoStats}
 * ({@code /api/v1/metrics}), per-file {@code InodeIoStats} ({@code /api/v1/metrics/files}, when
 * {@code iostats_files}), the latest read files ({@code latest_read_files}) and access patterns
 * ({@code access_pattern}). Per-file tables are opt-in and capped at {@link #MAX_TRACKED_FILES} entries.
 */
public final class FsMetrics {
    /** Upstream {@code StatsFop}, in its order (array indexes of the exported counters). */
    public enum Fop {
        GETATTR, READLINK, OPEN, RELEASE, READ, STATFS, GETXATTR, LISTXATTR, OPENDIR, LOOKUP, READDIR, READDIRPLUS,
        ACCESS, FORGET, BATCH_FORGET
    }

    private static final int FOPS = Fop.values().length;
    /** Request size buckets: ≤1K, ≤4K, ≤16K, ≤64K, ≤128K, ≤512K, ≤1M, more. */
    private static final int SIZE_BUCKETS = 8;
    /** Latency buckets in µs: ≤1ms, ≤20ms, ≤50ms, ≤100ms, ≤500ms, ≤1s, ≤2s, more. */
    private static final int LATENCY_BUCKETS = 8;
    public static final int MAX_TRACKED_FILES = 65536;

    private final String id;
    private final boolean filesEnabled;
    private final boolean accessPatternEnabled;
    private final boolean latestReadEnabled;
    private final LongAdder dataRead = new LongAdder();
    private final AtomicLongArray blockCountRead = new AtomicLongArray(SIZE_BUCKETS);
    private final AtomicLongArray fopHits = new AtomicLongArray(FOPS);
    private final AtomicLongArray fopErrors = new AtomicLongArray(FOPS);
    private final AtomicLongArray fopLatencyMicros = new AtomicLongArray(FOPS);
    private final AtomicLongArray readLatencyDist = new AtomicLongArray(LATENCY_BUCKETS);
    private final AtomicLong nrOpens = new AtomicLong();
    private final AtomicLong nrMaxOpens = new AtomicLong();
    private volatile long lastFopSecs;
    private final Map<Long, FileStats> files = new ConcurrentHashMap<>();
    private final Map<Long, AccessPattern> patterns = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> latestRead = new ConcurrentHashMap<>();

    public FsMetrics(String id, boolean filesEnabled, boolean accessPatternEnabled, boolean latestReadEnabled) {
        this.id = id;
        this.filesEnabled = filesEnabled;
        this.accessPatternEnabled = accessPatternEnabled;
        this.latestReadEnabled = latestReadEnabled;
    }

    public String id() {
        return id;
    }

    static int sizeBucket(long size) {
        if (size >> 10 == 0) {
            return 0;
        } else if (size >> 12 == 0) {
            return 1;
        } else if (size >> 14 == 0) {
            return 2;
        } else if (size >> 16 == 0) {
            return 3;
        } else if (size >> 17 == 0) {
            return 4;
        } else if (size >> 19 == 0) {
            return 5;
        } else if (size >> 20 == 0) {
            return 6;
        }
        return 7;
    }

    static int latencyBucket(long micros) {
        if (micros <= 1000) {
            return 0;
        } else if (micros <= 20_000) {
            return 1;
        } else if (micros <= 50_000) {
            return 2;
        } else if (micros <= 100_000) {
            return 3;
        } else if (micros <= 500_000) {
            return 4;
        } else if (micros <= 1_000_000) {
            return 5;
        } else if (micros <= 2_000_000) {
            return 6;
        }
        return 7;
    }

    /** Records one finished operation; {@code bytes} counts for reads only. */
    public void record(Fop fop, long ino, long startNanos, long bytes, boolean ok) {
        long micros = (System.nanoTime() - startNanos) / 1000;
        int f = fop.ordinal();
        lastFopSecs = System.currentTimeMillis() / 1000;
        fopLatencyMicros.addAndGet(f, micros);
        if (fop == Fop.READ) {
            readLatencyDist.incrementAndGet(latencyBucket(micros));
            blockCountRead.incrementAndGet(sizeBucket(bytes));
        }
        if (ok) {
            fopHits.incrementAndGet(f);
            if (fop == Fop.READ) {
                dataRead.add(bytes);
            } else if (fop == Fop.OPEN) {
                long n = nrOpens.incrementAndGet();
                nrMaxOpens.accumulateAndGet(n, Math::max);
            } else if (fop == Fop.RELEASE) {
                nrOpens.decrementAndGet();
            }
        } else {
            fopErrors.incrementAndGet(f);
        }
        if (filesEnabled) {
            FileStats s = fop == Fop.OPEN ? fileStats(ino) : files.get(ino);
            if (s != null) {
                s.record(fop, bytes, ok);
            }
        }
        if (fop == Fop.READ && ok) {
            if (accessPatternEnabled) {
                AccessPattern p = patterns.get(ino);
                if (p != null) {
                    p.read();
                }
            }
            if (latestReadEnabled && latestRead.size() < MAX_TRACKED_FILES) {
                latestRead.put(ino, Boolean.TRUE);
            }
        }
    }

    /** Called when a file is opened (access patterns start there). */
    public void opened(long ino) {
        if (accessPatternEnabled && patterns.size() < MAX_TRACKED_FILES) {
            patterns.computeIfAbsent(ino, k -> new AccessPattern());
        }
    }

    private FileStats fileStats(long ino) {
        FileStats s = files.get(ino);
        if (s == null && files.size() < MAX_TRACKED_FILES) {
            s = files.computeIfAbsent(ino, k -> new FileStats());
        }
        return s;
    }

    public long dataRead() {
        return dataRead.sum();
    }

    public long fopHits(Fop fop) {
        return fopHits.get(fop.ordinal());
    }

    public long fopErrors(Fop fop) {
        return fopErrors.get(fop.ordinal());
    }

    public long nrOpens() {
        return nrOpens.get();
    }

    /** Upstream {@code GlobalIoStats} JSON. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("files_account_enabled", filesEnabled);
        o.put("access_pattern_enabled", accessPatternEnabled);
        o.put("record_latest_read_files_enabled", latestReadEnabled);
        o.put("measure_latency", true);
        o.put("id", id);
        o.put("data_read", dataRead.sum());
        o.set("block_count_read", array(blockCountRead));
        o.set("fop_hits", array(fopHits));
        o.set("fop_errors", array(fopErrors));
        o.set("fop_cumulative_latency_total", array(fopLatencyMicros));
        o.set("read_latency_dist", array(readLatencyDist));
        o.put("nr_opens", nrOpens.get());
        o.put("nr_max_opens", nrMaxOpens.get());
        o.put("last_fop_tp", lastFopSecs);
        return o;
    }

    /** Per-file counters by inode ({@code iostats_files}); empty when disabled. */
    public ObjectNode filesJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        files.forEach((ino, s) -> o.set(Long.toString(ino), s.toJson()));
        return o;
    }

    /** Inodes read since the last call ({@code latest_read_files}); the set is cleared. */
    public ArrayNode takeLatestReadFiles() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Long ino : latestRead.keySet()) {
            if (latestRead.remove(ino) != null) {
                a.add(ino);
            }
        }
        return a;
    }

    /**
     * Files read at least once ({@code access_pattern}), named by {@code pathsOf}, which maps inode numbers to
     * paths (FUSE requests carry no paths: they are found when asked for).
     */
    public ArrayNode patternsJson(Function<Set<Long>, Map<Long, String>> pathsOf) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        Map<Long, String> paths = pathsOf.apply(patterns.keySet());
        patterns.forEach((ino, p) -> {
            if (p.nrRead.get() > 0) {
                ObjectNode o = a.addObject();
                o.put("ino", ino);
                o.put("file_path", paths.get(ino));
                o.put("nr_read", p.nrRead.get());
                o.put("first_access_time", p.firstAccess);
            }
        });
        return a;
    }

    private static ArrayNode array(AtomicLongArray a) {
        ArrayNode n = JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < a.length(); i++) {
            n.add(a.get(i));
        }
        return n;
    }

    /** Upstream {@code InodeIoStats}. */
    private static final class FileStats {
        final AtomicLong nrOpen = new AtomicLong();
        final AtomicLong nrMaxOpen = new AtomicLong();
        final AtomicLong totalFops = new AtomicLong();
        final AtomicLong dataRead = new AtomicLong();
        final AtomicLongArray blockCountRead = new AtomicLongArray(SIZE_BUCKETS);
        final AtomicLongArray hits = new AtomicLongArray(FOPS);
        final AtomicLongArray errors = new AtomicLongArray(FOPS);

        void record(Fop fop, long bytes, boolean ok) {
            if (!ok) {
                errors.incrementAndGet(fop.ordinal());
                return;
            }
            hits.incrementAndGet(fop.ordinal());
            totalFops.incrementAndGet();
            if (fop == Fop.OPEN) {
                nrMaxOpen.accumulateAndGet(nrOpen.incrementAndGet(), Math::max);
            } else if (fop == Fop.RELEASE) {
                nrOpen.decrementAndGet();
            } else if (fop == Fop.READ) {
                dataRead.addAndGet(bytes);
                blockCountRead.incrementAndGet(sizeBucket(bytes));
            }
        }

        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("nr_open", nrOpen.get());
            o.put("nr_max_open", nrMaxOpen.get());
            o.put("total_fops", totalFops.get());
            o.put("data_read", dataRead.get());
            o.set("block_count_read", array(blockCountRead));
            o.set("fop_hits", array(hits));
            o.set("fop_errors", array(errors));
            return o;
        }
    }

    private static final class AccessPattern {
        final AtomicLong nrRead = new AtomicLong();
        volatile long firstAccess;

        void read() {
            if (nrRead.getAndIncrement() == 0) {
                firstAccess = System.currentTimeMillis() / 1000;
            }
        }
    }
}
