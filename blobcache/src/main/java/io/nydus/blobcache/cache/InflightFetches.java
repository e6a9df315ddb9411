package io.nydus.blobcache.cache;

import io.nydus.blobcache.ReadPriority;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * The chunks of one blob being fetched (or verified) right now, so that concurrent readers of a chunk cause one
 * backend request: the first reader claims the chunk, the others wait for its result. Keys are chunk indexes, or
 * digests for blobs without a chunk count.
 */
final class InflightFetches {
    private final ConcurrentHashMap<Object, Fetch> fetches = new ConcurrentHashMap<>();

    /** One claimed chunk; completes when its bytes are in the cache file (or fails). */
    static final class Fetch {
        final Object key;
        final ReadPriority priority;
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        Fetch(Object key, ReadPriority priority) {
            this.key = key;
            this.priority = priority;
        }

        /** Waits for the claimant; rethrows its failure. */
        void await() throws IOException {
            try {
                done.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a chunk fetch");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof IOException io) {
                    throw new IOException(io.getMessage(), io);
                }
                throw new IOException(String.valueOf(c), c);
            }
        }

        boolean isDone() {
            return done.isDone();
        }
    }

    /** Claims {@code key}; returns null when another reader holds it (see {@link #get}). */
    Fetch claim(Object key, ReadPriority priority) {
        Fetch mine = new Fetch(key, priority);
        return fetches.putIfAbsent(key, mine) == null ? mine : null;
    }

    Fetch get(Object key) {
        return fetches.get(key);
    }

    /** Releases a claim and wakes its waiters; the chunk's readiness must be recorded before. */
    void complete(Fetch f) {
        fetches.remove(f.key, f);
        f.done.complete(null);
    }

    void fail(Fetch f, IOException e) {
        fetches.remove(f.key, f);
        f.done.completeExceptionally(e);
    }
}
