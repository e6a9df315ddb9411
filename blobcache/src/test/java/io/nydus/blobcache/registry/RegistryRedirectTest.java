package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.nydus.blobcache.ReadPriority;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registries that redirect blob GETs to signed object-store URLs (as distribution does with S3 storage): a tiny
 * redirecting front before a real registry, whose "signed" URLs expire and refuse registry credentials.
 */
class RegistryRedirectTest {
    @TempDir
    static Path work;
    static RegistryServer registry;
    static byte[] blob;
    static String digest;
    static final String REPO = "redir/blob";

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryServer.start(work);
        blob = TestBlobs.random(600_000, 41);
        digest = TestBlobs.push(registry.host(), REPO, blob);
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    /** Answers /v2 blob requests with 307 to /signed/… URLs valid for {@code lifetimeMillis}, and serves those. */
    static final class RedirectingFront implements AutoCloseable {
        final HttpServer server;
        final HttpClient http = HttpClient.newHttpClient();
        final AtomicInteger registryHits = new AtomicInteger();
        final AtomicInteger signedHits = new AtomicInteger();
        volatile long lifetimeMillis = 60_000;
        volatile String locationPrefix;

        RedirectingFront() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/v2/", this::redirect);
            server.createContext("/signed/", this::serve);
            server.start();
            locationPrefix = "http://" + host();
        }

        String host() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        private void redirect(HttpExchange ex) throws IOException {
            try (ex) {
                registryHits.incrementAndGet();
                String path = ex.getRequestURI().getPath().substring("/v2/".length());
                long expires = System.currentTimeMillis() + lifetimeMillis;
                ex.getResponseHeaders().set("Location", locationPrefix + "/signed/" + path + "?expires=" + expires
                        + "&method=" + ex.getRequestMethod());
                ex.sendResponseHeaders(307, -1);
            }
        }

        private void serve(HttpExchange ex) throws IOException {
            try (ex) {
                signedHits.incrementAndGet();
                String q = ex.getRequestURI().getQuery();
                long expires = Long.parseLong(q.replaceAll(".*expires=(\\d+).*", "$1"));
                if (System.currentTimeMillis() > expires || ex.getRequestHeaders().containsKey("Authorization")
                        || !q.contains("method=" + ex.getRequestMethod())) {
                    byte[] b = "<Error><Code>AccessDenied</Code></Error>".getBytes();
                    ex.sendResponseHeaders(403, b.length);
                    try (OutputStream o = ex.getResponseBody()) {
                        o.write(b);
                    }
                    return;
                }
                String path = ex.getRequestURI().getPath().substring("/signed/".length());
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(registry.url() + "/v2/" + path))
                        .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
                String range = ex.getRequestHeaders().getFirst("Range");
                if (range != null) {
                    b.header("Range", range);
                }
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                r.headers().firstValue("Content-Range").ifPresent(v -> ex.getResponseHeaders().set("Content-Range", v));
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.getResponseHeaders().set("Content-Length", r.headers().firstValue("Content-Length").orElse("0"));
                    ex.sendResponseHeaders(r.statusCode(), -1);
                    return;
                }
                ex.sendResponseHeaders(r.statusCode(), r.body().length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(r.body());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private static void read(RegistryClient c, int off, int len) throws Exception {
        byte[] dst = new byte[len];
        c.readBlob(REPO, digest, off, dst, 0, len, ReadPriority.ON_DEMAND);
        assertArrayEquals(Arrays.copyOfRange(blob, off, off + len), dst);
    }

    @Test
    void redirectsAreFollowedAndTheBlobUrlIsCached() throws Exception {
        try (RedirectingFront front = new RedirectingFront();
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http")
                        .credentials(RegistryCredentials.basic("u", "p")).build())) {
            for (int i = 0; i < 5; i++) {
                read(c, i * 1000, 1000);
            }
            assertEquals(1, front.registryHits.get(), "later reads go straight to the cached blob URL");
            assertEquals(5, front.signedHits.get());
            assertEquals(blob.length, c.blobSize(REPO, digest));
        }
    }

    @Test
    void anExpiredBlobUrlIsDroppedAndTheRegistryAskedAgain() throws Exception {
        try (RedirectingFront front = new RedirectingFront();
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").build())) {
            front.lifetimeMillis = 300;
            read(c, 0, 1000);
            Thread.sleep(400);
            read(c, 1000, 1000);
            assertEquals(2, front.registryHits.get());
            assertEquals(3, front.signedHits.get(), "one 403 from the expired URL, then the new one");
            front.lifetimeMillis = -1; // every new URL is already expired: the read fails after one more try
            Thread.sleep(400);
            RegistryException e = assertThrows(RegistryException.class, () -> read(c, 0, 10));
            assertEquals(403, e.status());
            assertTrue(e.getMessage().contains("/signed/") && e.getMessage().contains("?…"), e.getMessage());
        }
    }

    @Test
    void blobRedirectedHostAndSchemeRewriteTheLocation() throws Exception {
        try (RedirectingFront front = new RedirectingFront()) {
            front.locationPrefix = "https://blobstore.invalid:" + front.server.getAddress().getPort();
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http")
                    .blobUrlScheme("http").blobRedirectedHost(front.host()).build())) {
                read(c, 5, 5000);
            }
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").build())) {
                RegistryException e = assertThrows(RegistryException.class, () -> read(c, 5, 5000));
                assertTrue(e.getMessage().contains(digest), e.getMessage());
            }
        }
    }
}
