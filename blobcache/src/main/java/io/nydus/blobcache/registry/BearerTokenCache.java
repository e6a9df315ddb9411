package io.nydus.blobcache.registry;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bearer tokens by (realm, service, scopes). A token is renewed before it expires: from a jittered point at 70–80%
 * of its lifetime one caller fetches a new one while the others keep using the still valid old one, so readers never
 * wait for the token server unless a token actually expired (or was rejected: {@link #invalidate}). Jitter keeps many
 * daemons started together from renewing in lockstep.
 */
final class BearerTokenCache {
    /** Lifetime assumed when the token server does not say ({@code expires_in} absent). */
    static final Duration DEFAULT_LIFETIME = Duration.ofSeconds(600);
    private static final double REFRESH_FROM = 0.70;
    private static final double REFRESH_JITTER = 0.10;
    /** A token is not used in the last tenth of its life (at most 10 s): the request may reach the registry late. */
    private static final long EXPIRY_MARGIN_CAP_NANOS = Duration.ofSeconds(10).toNanos();

    /** Cache key; scopes compare as a set, so that equal sets share a token whatever their order. */
    record Key(String realm, String service, Set<String> scopes) {
        Key {
            scopes = Set.copyOf(scopes);
        }

        /** The scopes in a stable order, for requests. */
        TreeSet<String> sortedScopes() {
            return new TreeSet<>(scopes);
        }
    }

    /** A token as the server gave it, with when it was requested. */
    record Token(String value, long requestedAtNanos, Duration lifetime) {
    }

    interface Fetcher {
        Token fetch(Key key) throws IOException;
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();

    /** A usable token for {@code key}, fetching or renewing it with {@code fetcher} when needed. */
    String token(Key key, Fetcher fetcher) throws IOException {
        return entries.computeIfAbsent(key, k -> new Entry()).get(key, fetcher);
    }

    /** Forgets {@code token} if it is still the cached one for {@code key} (the registry refused it). */
    void invalidate(Key key, String token) {
        Entry e = entries.get(key);
        if (e != null) {
            e.invalidate(token);
        }
    }

    void clear() {
        entries.clear();
    }

    private static final class Entry {
        private final ReentrantLock lock = new ReentrantLock();
        private volatile String value;
        private volatile long refreshAt;
        private volatile long expiresAt;

        String get(Key key, Fetcher fetcher) throws IOException {
            String v = value;
            long now = System.nanoTime();
            if (v != null && now - refreshAt < 0) {
                return v;
            }
            if (v != null && now - expiresAt < 0) {
                // renewal due: one caller renews, the others go on with the current token
                if (!lock.tryLock()) {
                    return v;
                }
            } else {
                lock.lock();
            }
            try {
                v = value;
                now = System.nanoTime();
                if (v != null && now - refreshAt < 0) {
                    return v; // renewed while we waited
                }
                Token t;
                try {
                    t = fetcher.fetch(key);
                } catch (IOException e) {
                    if (v != null && now - expiresAt < 0) {
                        return v; // renewal failed but the old token is still good: try again next time
                    }
                    throw e;
                }
                long life = t.lifetime().toNanos();
                long margin = Math.min(life / 10, EXPIRY_MARGIN_CAP_NANOS);
                double at = REFRESH_FROM + ThreadLocalRandom.current().nextDouble() * REFRESH_JITTER;
                expiresAt = t.requestedAtNanos() + life - margin;
                refreshAt = t.requestedAtNanos() + (long) (life * at);
                value = t.value();
                return t.value();
            } finally {
                lock.unlock();
            }
        }

        void invalidate(String token) {
            lock.lock();
            try {
                if (token != null && token.equals(value)) {
                    value = null;
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
