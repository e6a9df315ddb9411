package io.nydus.blobcache;

/** Why bytes are read: a user is waiting (on demand) or the daemon reads ahead (prefetch). */
public enum ReadPriority {
    ON_DEMAND, PREFETCH
}
