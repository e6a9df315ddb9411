package io.nydus.blobcache.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a Dragonfly dfdaemon in proxy mode, for tests: an HTTP forward proxy (requests carry absolute
 * URIs) that records what it is asked, answers {@code /server/ping}, and can be told to answer like an overloaded or
 * refusing dfdaemon (500, 429, 403 with {@code X-Dragonfly-Error-Type: proxy}), or be stopped and started again on
 * the same port.
 */
final class DragonflyStandIn implements AutoCloseable {
    enum Mode {
        FORWARD, FAIL_500, THROTTLE_429, FORBID_403
    }

    /** A request the proxy forwarded or refused. */
    record Seen(String method, URI uri, Map<String, List<String>> headers) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private static final Set<String> HOP = Set.of("host", "connection", "content-length", "expect", "upgrade",
            "proxy-connection", "keep-alive", "transfer-encoding");

    private final int port;
    private final HttpClient upstream = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger pings = new AtomicInteger();
    private volatile Mode mode = Mode.FORWARD;
    private volatile HttpServer server;

    private DragonflyStandIn(int port) {
        this.port = port;
    }

    static DragonflyStandIn start() throws IOException {
        DragonflyStandIn p = new DragonflyStandIn(io.nydus.testdata.registry.RegistryServer.freePort());
        p.startServer();
        return p;
    }

    void startServer() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        s.createContext("/", this::handle);
        s.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "dragonfly-stand-in");
            t.setDaemon(true);
            return t;
        }));
        s.start();
        server = s;
    }

    /** Stops listening (the process "dies"); {@link #startServer()} brings it back on the same port. */
    void stopServer() {
        HttpServer s = server;
        if (s != null) {
            s.stop(0);
            ((java.util.concurrent.ExecutorService) s.getExecutor()).shutdownNow();
            server = null;
        }
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    String pingUrl() {
        return url() + "/server/ping";
    }

    void mode(Mode m) {
        this.mode = m;
    }

    /** Proxied requests (not pings) so far. */
    List<Seen> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    int pings() {
        return pings.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            URI uri = ex.getRequestURI();
            if (uri.getScheme() == null) {
                if (uri.getPath().equals("/server/ping")) {
                    pings.incrementAndGet();
                    reply(ex, 200, Map.of(), new byte[0]);
                } else {
                    reply(ex, 404, Map.of(), new byte[0]);
                }
                return;
            }
            seen.add(new Seen(ex.getRequestMethod(), uri, Map.copyOf(ex.getRequestHeaders())));
            switch (mode) {
                case FAIL_500 -> reply(ex, 500, Map.of("X-Dragonfly-Error-Type", "proxy"), "peer failed".getBytes());
                case THROTTLE_429 -> reply(ex, 429, Map.of("X-Dragonfly-Error-Type", "proxy", "Retry-After", "1"),
                        "too many requests".getBytes());
                case FORBID_403 -> reply(ex, 403, Map.of("X-Dragonfly-Error-Type", "proxy"), "denied by dfdaemon".getBytes());
                default -> forward(ex, uri);
            }
        }
    }

    private void forward(HttpExchange ex, URI uri) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(ex.getRequestMethod(),
                body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
            if (!HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                for (String v : h.getValue()) {
                    b.header(h.getKey(), v);
                }
            }
        }
        HttpResponse<byte[]> r;
        try {
            r = upstream.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (IOException e) {
            reply(ex, 502, Map.of("X-Dragonfly-Error-Type", "proxy"), e.toString().getBytes());
            return;
        }
        for (Map.Entry<String, List<String>> h : r.headers().map().entrySet()) {
            String k = h.getKey().toLowerCase(Locale.ROOT);
            if (HOP.contains(k) && !(k.equals("content-length") && ex.getRequestMethod().equals("HEAD"))) {
                continue;
            }
            ex.getResponseHeaders().put(h.getKey(), h.getValue());
        }
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(r.statusCode(), -1);
            return;
        }
        ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(r.body());
        }
    }

    private static void reply(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        stopServer();
    }
}
