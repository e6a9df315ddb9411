package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.DragonflyStandIn.Mode;
import io.nydus.testdata.registry.RegistryServer;
import io.nydus.testdata.registry.TokenServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blob reads through a Dragonfly proxy (a stand-in dfdaemon in front of a real registry). */
class DragonflyProxyTest {
    @TempDir
    static Path work;
    static RegistryServer registry;
    static byte[] blob;
    static String digest;
    static final String REPO = "df/blob";

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryServer.start(work);
        blob = TestBlobs.random(1 << 20, 31);
        digest = TestBlobs.push(registry.host(), REPO, blob);
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private static ProxyConfig proxyConfig(DragonflyStandIn df) {
        return ProxyConfig.of(df.url()).withPingUrl(df.pingUrl()).withCheckInterval(Duration.ofMillis(100));
    }

    private static RegistryClient client(String host, String scheme, ProxyConfig p) throws Exception {
        return new RegistryClient(RegistrySettings.builder(host).scheme(scheme).proxy(p).build());
    }

    private static void read(RegistryClient c, long off, int len, ReadPriority priority) throws Exception {
        byte[] dst = new byte[len];
        c.readBlob(REPO, digest, off, dst, 0, len, priority);
        assertArrayEquals(Arrays.copyOfRange(blob, (int) off, (int) off + len), dst);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void readsGoThroughTheProxyWithDragonflyHeaders() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http", proxyConfig(df))) {
            read(c, 100, 5000, ReadPriority.ON_DEMAND);
            read(c, 9000, 7000, ReadPriority.PREFETCH);
            assertEquals(blob.length, c.blobSize(REPO, digest));
            var seen = df.seen();
            assertEquals(3, seen.size(), seen.toString());
            assertEquals(registry.url() + "/v2/" + REPO + "/blobs/" + digest, seen.get(0).uri().toString());
            assertEquals("6", seen.get(0).header("X-Dragonfly-Priority"));
            assertEquals("true", seen.get(0).header("X-Dragonfly-Use-P2P"));
            assertEquals("false", seen.get(0).header("X-Dragonfly-Prefetch"));
            assertEquals("bytes=100-5099", seen.get(0).header("Range"));
            assertEquals("3", seen.get(1).header("X-Dragonfly-Priority"));
            assertEquals("true", seen.get(1).header("X-Dragonfly-Prefetch"));
            assertEquals("HEAD", seen.get(2).method());
            await(() -> df.pings() >= 2, "the proxy is pinged");
        }
    }

    @Test
    void useHttpAsksTheProxyForPlainHttpUrls() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "https", proxyConfig(df).withUseHttp(true))) {
            read(c, 0, 4096, ReadPriority.ON_DEMAND);
            assertEquals("http", df.seen().get(0).uri().getScheme());
        }
    }

    @Test
    void whenTheProxyDiesReadsFallBackToTheRegistryAndReturnWhenItIsBack() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http", proxyConfig(df))) {
            read(c, 0, 1000, ReadPriority.ON_DEMAND);
            assertEquals(1, df.seen().size());
            df.stopServer();
            // before any health check noticed: the failed proxy request is repeated directly
            read(c, 1000, 1000, ReadPriority.ON_DEMAND);
            await(() -> !c.proxy().healthy(), "the proxy is seen as unhealthy");
            read(c, 2000, 1000, ReadPriority.PREFETCH);
            assertEquals(1, df.seen().size());
            df.startServer();
            await(() -> c.proxy().healthy(), "the proxy is healthy again");
            read(c, 3000, 1000, ReadPriority.ON_DEMAND);
            assertEquals(2, df.seen().size());
        }
    }

    @Test
    void withoutFallbackAnUnhealthyProxyFailsReads() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http", proxyConfig(df).withFallback(false))) {
            read(c, 0, 1000, ReadPriority.ON_DEMAND);
            df.stopServer();
            await(() -> !c.proxy().healthy(), "the proxy is seen as unhealthy");
            RegistryException e = assertThrows(RegistryException.class, () -> read(c, 0, 1000, ReadPriority.ON_DEMAND));
            assertTrue(e.getMessage().contains("unhealthy and fallback is off") && e.getMessage().contains(digest),
                    e.getMessage());
        }
    }

    @Test
    void proxyErrorsAreRetriedDirectlyOnlyWithFallback() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start()) {
            df.mode(Mode.FAIL_500);
            try (RegistryClient c = client(registry.host(), "http", proxyConfig(df))) {
                read(c, 0, 1000, ReadPriority.ON_DEMAND);
                assertEquals(1, df.seen().size());
            }
            try (RegistryClient c = client(registry.host(), "http", proxyConfig(df).withFallback(false))) {
                RegistryException e = assertThrows(RegistryException.class,
                        () -> read(c, 0, 1000, ReadPriority.ON_DEMAND));
                assertEquals(500, e.status());
            }
        }
    }

    @Test
    void aProxyRefusalIsAnErrorWithoutFallback() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http", proxyConfig(df))) {
            df.mode(Mode.FORBID_403);
            RegistryException e = assertThrows(RegistryException.class, () -> read(c, 0, 1000, ReadPriority.ON_DEMAND));
            assertEquals(403, e.status());
            assertTrue(e.getMessage().contains("via Dragonfly proxy " + df.url()), e.getMessage());
            assertEquals(1, df.seen().size());
        }
    }

    @Test
    void aThrottlingProxySendsOnDemandReadsDirectUnderARateLimitAndFailsPrefetch() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http", proxyConfig(df).withDirectReadsPerSecond(4))) {
            df.mode(Mode.THROTTLE_429);
            long t0 = System.nanoTime();
            for (int i = 0; i < 6; i++) {
                read(c, i * 1000, 1000, ReadPriority.ON_DEMAND);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            // 4 permits at once, then 4 per second: the 6th read waits about half a second
            assertTrue(seconds > 0.4, "6 direct reads took " + seconds + " s");
            assertEquals(1, df.seen().size(), "throttled for Retry-After: the proxy is not asked again");
            RegistryException e = assertThrows(RegistryException.class, () -> read(c, 0, 100, ReadPriority.PREFETCH));
            assertTrue(e.getMessage().contains("429") && e.getMessage().contains("prefetch"), e.getMessage());
            df.mode(Mode.FORWARD);
            Thread.sleep(1100);
            read(c, 0, 100, ReadPriority.PREFETCH);
            assertEquals(2, df.seen().size());
        }
    }

    @Test
    void tokenRequestsBypassTheProxy() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("u", "p");
                RegistryServer r = RegistryServer.withTokenAuth(work.resolve("tokreg"), ts);
                DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).scheme("http")
                        .credentials(RegistryCredentials.basic("u", "p")).proxy(proxyConfig(df)).build())) {
            c.pushBlob(REPO, digest, BlobSource.ofBytes(blob));
            read(c, 0, 2000, ReadPriority.ON_DEMAND);
            assertTrue(ts.issuedTokens() >= 2);
            assertFalse(df.seen().isEmpty());
            assertTrue(df.seen().stream().noneMatch(s -> s.uri().toString().startsWith(ts.realm())), df.seen().toString());
            // the blob reads went through the proxy, authorized
            assertTrue(df.seen().stream().anyMatch(s -> s.header("Authorization") != null
                    && s.header("Authorization").startsWith("Bearer ")));
        }
    }

    @Test
    void healthChecksPauseWhenNothingIsRead() throws Exception {
        try (DragonflyStandIn df = DragonflyStandIn.start();
                RegistryClient c = client(registry.host(), "http",
                        proxyConfig(df).withCheckPauseElapsed(Duration.ofMillis(600)))) {
            read(c, 0, 100, ReadPriority.ON_DEMAND);
            await(() -> c.proxy().pausedHealthChecks() > 0, "health checks pause");
            long checks = c.proxy().healthChecks();
            Thread.sleep(400);
            assertEquals(checks, c.proxy().healthChecks());
            read(c, 0, 100, ReadPriority.ON_DEMAND);
            await(() -> c.proxy().healthChecks() > checks, "health checks resume after a read");
        }
    }
}
