package io.nydus.blobcache.cache;

/**
 * Background prefetch settings ({@code fs_prefetch} in v1; {@code cache.prefetch} / {@code rafs.prefetch} in v2).
 *
 * @param threads       prefetch workers (upstream {@code threads_count}, default 8)
 * @param mergingSize   largest merged backend request in bytes (default 1 MiB)
 * @param bandwidthRate bytes per second for prefetch, 0 = unlimited
 * @param prefetchAll   prefetch every chunk of the image after the listed files
 */
public record PrefetchConfig(boolean enable, int threads, long mergingSize, long bandwidthRate, boolean prefetchAll) {
    public static final PrefetchConfig DISABLED = new PrefetchConfig(false, 8, 1 << 20, 0, false);
}
