package io.nydus.daemon;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Background prefetch of an image (upstream {@code fs_prefetch}): the files named by {@code --prefetch-files}
 * or else the bootstrap's prefetch table, then every file when {@code prefetch_all}. Chunks are handed to the
 * chunk source in batches, so a million-file image never has its chunk list in memory at once; directories are
 * walked with one readdir cursor per level.
 */
final class Prefetcher {
    /** Chunks handed over per call. */
    static final int BATCH = 256;
    /** Directory entries read per readdir call of the walk. */
    private static final int DIR_PAGE = 256;

    private final RafsImage image;
    private final List<String> files;
    private volatile boolean stopped;
    private Thread thread;
    private long handed;

    Prefetcher(RafsImage image, List<String> files) {
        this.image = image;
        this.files = files == null ? List.of() : List.copyOf(files);
    }

    /** Waits for the walk to finish handing chunks over (tests). */
    boolean await(long millis) throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.join(millis);
            return !t.isAlive();
        }
        return true;
    }

    synchronized void start() {
        NydusdConfig.Prefetch cfg = image.config().rafsPrefetch();
        if (!cfg.enable() || thread != null) {
            return;
        }
        thread = new Thread(this::run, "prefetch " + image.mountpoint());
        thread.setDaemon(true);
        thread.start();
    }

    synchronized void stop() {
        stopped = true;
        if (thread != null) {
            thread.interrupt();
        }
    }

    private void run() {
        RafsSuper sb = image.superblock();
        List<ChunkInfo> batch = new ArrayList<>(BATCH);
        try {
            if (!files.isEmpty()) {
                for (String f : files) {
                    long ino = sb.lookupPath(f);
                    if (ino < 0) {
                        NydusdLog.warn("prefetch: %s not found in %s", f, image.bootstrap());
                        continue;
                    }
                    walk(sb, ino, batch);
                }
            } else {
                for (long ino : sb.prefetchInodes()) {
                    walk(sb, ino, batch);
                }
            }
            if (image.config().rafsPrefetch().prefetchAll()) {
                walk(sb, sb.rootIno(), batch);
            }
            flush(batch);
            NydusdLog.debug("prefetch of %s: %d chunks handed to the cache", image.mountpoint(), handed);
        } catch (StopException e) {
            // Unmounted while prefetching.
        } catch (RuntimeException e) {
            NydusdLog.warn("prefetch of %s stopped: %s", image.mountpoint(), e);
        }
    }

    /** Emits the chunks of {@code ino}, and of everything below it when it is a directory. */
    private void walk(RafsSuper sb, long ino, List<ChunkInfo> batch)  {
        Inode in = sb.inode(ino);
        if (in.isReg()) {
            emit(sb, ino, in, batch);
            return;
        }
        if (!in.isDir()) {
            return;
        }
        // One cursor (directory, cookie) per level: memory grows with depth, not with the tree.
        Deque<long[]> cursors = new ArrayDeque<>();
        cursors.push(new long[] {ino, 0});
        List<long[]> page = new ArrayList<>(DIR_PAGE);
        while (!cursors.isEmpty()) {
            long[] top = cursors.peek();
            page.clear();
            long[] next = {-1};
            sb.readdir(top[0], top[1], (name, child, mode, cookie) -> {
                page.add(new long[] {child, mode});
                next[0] = cookie;
                return page.size() < DIR_PAGE;
            });
            if (page.isEmpty()) {
                cursors.pop();
                continue;
            }
            top[1] = next[0];
            for (long[] e : page) {
                if (stopped) {
                    throw new StopException();
                }
                int mode = (int) e[1];
                if (FileMode.isReg(mode)) {
                    emit(sb, e[0], sb.inode(e[0]), batch);
                } else if (FileMode.isDir(mode)) {
                    cursors.push(new long[] {e[0], 0});
                }
            }
        }
    }

    private void emit(RafsSuper sb, long ino, Inode in, List<ChunkInfo> batch)  {
        for (int i = 0; i < in.chunkCount(); i++) {
            ChunkInfo c = sb.chunk(ino, i);
            if (!c.isHole()) {
                batch.add(c);
                if (batch.size() >= BATCH) {
                    flush(batch);
                }
            }
        }
    }

    private void flush(List<ChunkInfo> batch)  {
        if (batch.isEmpty()) {
            return;
        }
        if (stopped) {
            throw new StopException();
        }
        image.chunks().prefetch(List.copyOf(batch));
        handed += batch.size();
        batch.clear();
    }

    /** Ends the walk when the image is unmounted. */
    private static final class StopException extends RuntimeException {
        StopException() {
            super(null, null, false, false);
        }
    }
}
