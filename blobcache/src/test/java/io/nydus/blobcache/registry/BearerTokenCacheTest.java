package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BearerTokenCacheTest {
    private static final BearerTokenCache.Key KEY = new BearerTokenCache.Key("http://t/token", "svc",
            Set.of("repository:b:pull", "repository:a:pull"));

    @Test
    void equalScopeSetsShareAToken() {
        assertEquals(KEY, new BearerTokenCache.Key("http://t/token", "svc", Set.of("repository:a:pull",
                "repository:b:pull")));
    }

    @Test
    void aTokenIsRenewedBeforeItExpiresAndKeptIfRenewalFails() throws Exception {
        BearerTokenCache cache = new BearerTokenCache();
        AtomicInteger fetched = new AtomicInteger();
        BearerTokenCache.Fetcher f = k -> new BearerTokenCache.Token("t" + fetched.incrementAndGet(), System.nanoTime(),
                Duration.ofMillis(2000));
        assertEquals("t1", cache.token(KEY, f));
        assertEquals("t1", cache.token(KEY, f));
        // 2 s lifetime: renewal from 1.4–1.6 s, unusable from 1.8 s
        Thread.sleep(1650);
        assertEquals("t2", cache.token(KEY, f));
        Thread.sleep(1650);
        BearerTokenCache.Fetcher failing = k -> {
            throw new IOException("token server down");
        };
        assertEquals("t2", cache.token(KEY, failing), "renewal failed: the still valid token is used");
        Thread.sleep(300);
        assertThrows(IOException.class, () -> cache.token(KEY, failing), "expired: the failure is reported");
        cache.invalidate(KEY, "t2");
        assertEquals("t3", cache.token(KEY, f));
        cache.invalidate(KEY, "t1"); // not the current one: ignored
        assertEquals("t3", cache.token(KEY, f));
        assertEquals(3, fetched.get());
    }
}
