package io.nydus.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The administration API: HTTP/1.1 on a unix domain socket (Jetty's {@code jetty-unixdomain-server}, which
 * uses the JDK's own unix sockets). Routes and status codes are upstream's (notes §5.3): success with a body is
 * 200 + JSON, without a body 204; errors are {@code {"code":"UNDEFINED","message":…}} with 400, 404, 500, 501
 * or 503. Prometheus text metrics are served at {@value #METRICS_TEXT}.
 */
public final class ApiServer implements AutoCloseable {
    public static final String DAEMON = "/api/v1/daemon";
    public static final String DAEMON_EVENTS = "/api/v1/daemon/events";
    public static final String DAEMON_BACKEND = "/api/v1/daemon/backend";
    public static final String DAEMON_START = "/api/v1/daemon/start";
    public static final String DAEMON_EXIT = "/api/v1/daemon/exit";
    public static final String SENDFD = "/api/v1/daemon/fuse/sendfd";
    public static final String TAKEOVER = "/api/v1/daemon/fuse/takeover";
    public static final String MOUNT = "/api/v1/mount";
    public static final String METRICS = "/api/v1/metrics";
    public static final String METRICS_FILES = "/api/v1/metrics/files";
    public static final String METRICS_PATTERN = "/api/v1/metrics/pattern";
    public static final String METRICS_BACKEND = "/api/v1/metrics/backend";
    public static final String METRICS_BLOBCACHE = "/api/v1/metrics/blobcache";
    public static final String METRICS_INFLIGHT = "/api/v1/metrics/inflight";
    public static final String CONFIG = "/api/v1/config";
    public static final String DAEMON_CONFIG = "/api/v1/daemon/config";
    public static final String DAEMON_V2 = "/api/v2/daemon";
    public static final String BLOBS_V2 = "/api/v2/blobs";
    public static final String METRICS_TEXT = "/metrics";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    /** Small and fixed: the API serves one client (the snapshotter) and an operator now and then. */
    private static final int MAX_THREADS = 6;
    private static final int MIN_THREADS = 2;
    private static final long MAX_BODY = 1 << 20;

    private final Daemon daemon;
    private final Path socket;
    private final Server server;

    private ApiServer(Daemon daemon, Path socket, Server server) {
        this.daemon = daemon;
        this.socket = socket;
        this.server = server;
    }

    /** Binds {@code socket} (replacing a stale socket file, as upstream) and starts serving. */
    public static ApiServer start(Daemon daemon, Path socket) throws IOException {
        Path sock = socket.toAbsolutePath();
        if (sock.getParent() != null && !Files.isDirectory(sock.getParent())) {
            throw new IOException("API socket " + sock + ": directory " + sock.getParent() + " does not exist");
        }
        if (Files.exists(sock) && !Files.isDirectory(sock)) {
            Files.delete(sock);
        }
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, MIN_THREADS);
        pool.setName("api");
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, 1, 1,
                new HttpConnectionFactory(http));
        connector.setUnixDomainPath(sock);
        server.addConnector(connector);
        ApiServer api = new ApiServer(daemon, sock, server);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                api.serve(request, response, callback);
                return true;
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // Already failing.
            }
            throw new IOException("cannot serve the API on " + sock + ": " + e.getMessage(), e);
        }
        return api;
    }

    public Path socket() {
        return socket;
    }

    private void serve(Request request, Response response, Callback callback) {
        String method = request.getMethod();
        String path = request.getHttpURI().getPath();
        Fields query = Request.extractQueryParameters(request);
        NydusdLog.debug("api <- %s %s", method, request.getHttpURI().getPathQuery());
        try {
            Reply r = route(method, path, query, request);
            send(response, callback, r.status, r.body, r.contentType);
        } catch (ApiException e) {
            send(response, callback, e.status(), error(e.getMessage()), JSON_TYPE);
        } catch (Throwable t) {
            NydusdLog.error(t, "api %s %s failed: %s", method, path, t);
            send(response, callback, ApiException.INTERNAL, error(String.valueOf(t.getMessage())), JSON_TYPE);
        }
    }

    private record Reply(int status, String body, String contentType) {
        static Reply json(JsonNode n) {
            return new Reply(200, n.toString(), JSON_TYPE);
        }

        static Reply empty() {
            return new Reply(204, null, null);
        }
    }

    private Reply route(String method, String path, Fields query, Request request) throws Exception {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        switch (p) {
            case DAEMON:
                if (method.equals("GET")) {
                    return Reply.json(daemon.info(true));
                }
                if (method.equals("PUT")) {
                    daemon.configure(body(request));
                    return Reply.empty();
                }
                break;
            case DAEMON_V2:
                if (method.equals("GET")) {
                    return Reply.json(daemon.info(false));
                }
                if (method.equals("PUT")) {
                    daemon.configure(body(request));
                    return Reply.empty();
                }
                break;
            case DAEMON_EVENTS:
                if (method.equals("GET")) {
                    return Reply.json(daemon.events());
                }
                break;
            case DAEMON_BACKEND:
                if (method.equals("GET")) {
                    return Reply.json(daemon.backendInfo(query.getValue("mountpoint")));
                }
                break;
            case DAEMON_START:
                if (method.equals("PUT")) {
                    daemon.startService();
                    return Reply.empty();
                }
                break;
            case DAEMON_EXIT:
                if (method.equals("PUT")) {
                    // Answer first: the exit tears down this server.
                    Request.addCompletionListener(request, failure -> daemon.requestExit(0));
                    return Reply.empty();
                }
                break;
            case SENDFD:
                if (method.equals("PUT")) {
                    daemon.sendFuseFd();
                    return Reply.empty();
                }
                break;
            case TAKEOVER:
                if (method.equals("PUT")) {
                    daemon.takeover();
                    return Reply.empty();
                }
                break;
            case MOUNT:
                return mount(method, query, request);
            case METRICS:
                if (method.equals("GET")) {
                    return Reply.json(daemon.fsMetrics(query.getValue("id")).toJson());
                }
                break;
            case METRICS_FILES:
                if (method.equals("GET")) {
                    boolean latest = Boolean.parseBoolean(query.getValue("latest"));
                    FsMetrics m = daemon.fsMetrics(query.getValue("id"));
                    return Reply.json(latest ? m.takeLatestReadFiles() : m.filesJson());
                }
                break;
            case METRICS_PATTERN:
                if (method.equals("GET")) {
                    return Reply.json(daemon.accessPatterns(query.getValue("id")));
                }
                break;
            case METRICS_BACKEND:
                if (method.equals("GET")) {
                    return Reply.json(daemon.backendMetrics(query.getValue("id")));
                }
                break;
            case METRICS_BLOBCACHE:
                if (method.equals("GET")) {
                    return Reply.json(daemon.blobcacheMetrics(query.getValue("id")));
                }
                break;
            case METRICS_INFLIGHT:
                if (method.equals("GET")) {
                    JsonNode ops = daemon.inflight();
                    return ops.isEmpty() ? Reply.empty() : Reply.json(ops);
                }
                break;
            case CONFIG:
            case DAEMON_CONFIG:
                if (method.equals("GET")) {
                    return Reply.json(daemon.runtimeConfig(query.getValue("id")));
                }
                if (method.equals("PUT")) {
                    daemon.updateRuntimeConfig(query.getValue("id"), body(request));
                    return Reply.empty();
                }
                break;
            case BLOBS_V2:
                throw new ApiException(ApiException.NOT_IMPLEMENTED,
                        "blob cache entries (fscache mode) are not supported by this daemon");
            case METRICS_TEXT:
                if (method.equals("GET")) {
                    return new Reply(200, daemon.prometheus(), "text/plain; version=0.0.4; charset=utf-8");
                }
                break;
            default:
                throw new ApiException(ApiException.NOT_FOUND, "no route for " + path);
        }
        throw new ApiException(ApiException.BAD_REQUEST, "method " + method + " is not allowed on " + p);
    }

    private Reply mount(String method, Fields query, Request request) throws Exception {
        String mp = query.getValue("mountpoint");
        if (mp == null || mp.isEmpty()) {
            throw new ApiException(ApiException.BAD_REQUEST, "'mountpoint' should be specified in query string");
        }
        switch (method) {
            case "POST" -> daemon.mount(mp, mountCommand(body(request)), false);
            case "PUT" -> daemon.mount(mp, mountCommand(body(request)), true);
            case "DELETE" -> daemon.umount(mp);
            default -> throw new ApiException(ApiException.BAD_REQUEST, "method " + method + " is not allowed on "
                    + MOUNT);
        }
        return Reply.empty();
    }

    private static Daemon.MountCommand mountCommand(JsonNode b) throws ApiException {
        String source = text(b, "source");
        if (source == null || source.isEmpty()) {
            throw new ApiException(ApiException.BAD_REQUEST, "mount request has no 'source'");
        }
        String fsType = text(b, "fs_type");
        if (fsType == null) {
            fsType = text(b, "fstype");
        }
        JsonNode cfg = b.get("config");
        String config = cfg == null || cfg.isNull() ? null : cfg.isTextual() ? cfg.textValue() : cfg.toString();
        List<String> prefetch = new ArrayList<>();
        JsonNode pf = b.get("prefetch_files");
        if (pf != null && pf.isArray()) {
            pf.forEach(n -> prefetch.add(n.asText()));
        }
        return new Daemon.MountCommand(source, fsType == null ? "rafs" : fsType, config, prefetch);
    }

    private static String text(JsonNode b, String key) throws ApiException {
        JsonNode v = b.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new ApiException(ApiException.BAD_REQUEST, "'" + key + "' must be a string");
        }
        return v.textValue();
    }

    private static JsonNode body(Request request) throws ApiException {
        String text;
        try {
            if (request.getLength() > MAX_BODY) {
                throw new ApiException(ApiException.BAD_REQUEST, "request body larger than 1 MiB");
            }
            text = Content.Source.asString(request, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ApiException(ApiException.BAD_REQUEST, "cannot read request body: " + e.getMessage());
        }
        if (text == null || text.isBlank()) {
            throw new ApiException(ApiException.BAD_REQUEST, "request needs a JSON body");
        }
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || !n.isObject()) {
                throw new ApiException(ApiException.BAD_REQUEST, "request body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new ApiException(ApiException.BAD_REQUEST,
                    "invalid JSON body: " + NydusdLog.firstLine(e.getMessage()));
        }
    }

    private static String error(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("code", "UNDEFINED");
        o.put("message", message);
        return o.toString();
    }

    private static void send(Response response, Callback callback, int status, String body, String type) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.SERVER, "Nydus API");
        if (body == null) {
            callback.succeeded();
            return;
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            NydusdLog.debug("API server stop: %s", e.getMessage());
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            NydusdLog.debug("cannot remove %s: %s", socket, e.getMessage());
        }
    }
}
