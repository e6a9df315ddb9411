package io.nydus.blobcache.cache;

import java.nio.file.Path;

/**
 * The chunk cache settings of nydusd's config ({@code device.cache} in v1, {@code cache} in v2; notes §5.2).
 *
 * @param type        "blobcache" / "filecache" (aliases: a local cache in {@code workDir}), "dummycache" or "" (none)
 * @param compressed  cache compressed chunks ({@code <blob>.blob.raw}) instead of uncompressed ones
 * @param validate    verify chunk digests when fetched and at first use after every start
 * @param amplifyIo   read-ahead/merge size for on-demand reads in bytes (upstream {@code amplify_io}, default 1 MiB)
 * @param sizeLimit   bytes of cache files allowed in {@code workDir} before whole unused blobs are evicted; 0 = no limit
 */
public record CacheConfig(String type, Path workDir, boolean compressed, boolean validate, long amplifyIo,
        long sizeLimit, PrefetchConfig prefetch) {

    public static final long DEFAULT_AMPLIFY_IO = 1 << 20;

    /** No cache: every read goes to the backend. */
    public static CacheConfig none(boolean validate) {
        return new CacheConfig("", null, false, validate, DEFAULT_AMPLIFY_IO, 0, PrefetchConfig.DISABLED);
    }

    public boolean isLocalCache() {
        return type.equals("blobcache") || type.equals("filecache");
    }
}
