package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * nydusd's HTTP API (HTTP/1.1 over its unix socket, {@code --apisock}): daemon state and RAFS mounts in a shared
 * daemon. One connection per request ({@code Connection: close}); every call has a deadline so a wedged
 * daemon cannot block the snapshotter.
 */
public final class NydusdClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;
    private final Duration timeout;

    public NydusdClient(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** An HTTP answer. */
    public record Response(int status, String body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** The daemon's {@code state} from {@code GET /api/v1/daemon} ({@code INIT}, {@code READY}, {@code RUNNING}…). */
    public String state() throws IOException {
        Response r = request("GET", "/api/v1/daemon", null);
        if (!r.ok()) {
            throw new IOException("GET /api/v1/daemon on " + socket + ": HTTP " + r.status() + " " + r.body());
        }
        JsonNode n = JSON.readTree(r.body());
        return n.path("state").asText("UNKNOWN").toUpperCase(Locale.ROOT);
    }

    /** {@code POST /api/v1/mount?mountpoint=<mp>} with {@code {"source", "fs_type": "rafs", "config"}}. */
    public void mount(String mountpoint, String bootstrap, String configJson) throws IOException {
        String body = JSON.writeValueAsString(Map.of("source", bootstrap, "fs_type", "rafs", "config", configJson));
        Response r = request("POST", "/api/v1/mount?mountpoint=" + query(mountpoint), body);
        if (!r.ok()) {
            throw new IOException("mount " + mountpoint + " in nydusd " + socket + ": HTTP " + r.status() + " "
                    + r.body().trim());
        }
    }

    /** {@code DELETE /api/v1/mount?mountpoint=<mp>}. */
    public void umount(String mountpoint) throws IOException {
        Response r = request("DELETE", "/api/v1/mount?mountpoint=" + query(mountpoint), null);
        if (!r.ok()) {
            throw new IOException("umount " + mountpoint + " in nydusd " + socket + ": HTTP " + r.status() + " "
                    + r.body().trim());
        }
    }

    private static String query(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8).replace("%2F", "/");
    }

    public Response request(String method, String target, String body) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: application/json\r\n")
                + "Content-Length: " + payload.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.configureBlocking(false);
            ByteBuffer out = ByteBuffer.allocate(head.length() + payload.length);
            out.put(head.getBytes(StandardCharsets.US_ASCII)).put(payload).flip();
            ch.register(selector, SelectionKey.OP_WRITE);
            while (out.hasRemaining()) {
                await(selector, deadline);
                ch.write(out);
            }
            ch.register(selector, SelectionKey.OP_READ);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (true) {
                Response done = parse(in.toByteArray(), false);
                if (done != null) {
                    return done;
                }
                await(selector, deadline);
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    Response r = parse(in.toByteArray(), true);
                    if (r == null) {
                        throw new IOException("nydusd " + socket + " closed the connection mid-response");
                    }
                    return r;
                }
                in.write(buf.array(), 0, n);
            }
        }
    }

    private void await(Selector selector, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || selector.select(left) == 0) {
            throw new IOException("nydusd " + socket + " did not answer within " + timeout.toMillis() + " ms");
        }
        selector.selectedKeys().clear();
    }

    /** A complete response in {@code data}, or null while more is needed (Content-Length, chunked or close). */
    static Response parse(byte[] data, boolean eof) throws IOException {
        int headEnd = indexOf(data, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
        if (headEnd < 0) {
            return null;
        }
        String head = new String(data, 0, headEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP response: " + lines[0]);
        }
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (NumberFormatException e) {
            throw new IOException("bad HTTP status line: " + lines[0]);
        }
        long length = -1;
        boolean chunked = false;
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c < 0) {
                continue;
            }
            String name = lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(c + 1).trim();
            if (name.equals("content-length")) {
                length = Long.parseLong(value);
            } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            }
        }
        int bodyStart = headEnd + 4;
        if (status == 204 || status == 304 || status / 100 == 1) {
            return new Response(status, "");
        }
        if (chunked) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            int p = bodyStart;
            while (true) {
                int eol = indexOf(data, "\r\n".getBytes(StandardCharsets.US_ASCII), p);
                if (eol < 0) {
                    return null;
                }
                String sizeText = new String(data, p, eol - p, StandardCharsets.US_ASCII).split(";")[0].trim();
                int size = Integer.parseInt(sizeText, 16);
                if (size == 0) {
                    return new Response(status, body.toString(StandardCharsets.UTF_8));
                }
                if (eol + 2 + size + 2 > data.length) {
                    return null;
                }
                body.write(data, eol + 2, size);
                p = eol + 2 + size + 2;
            }
        }
        if (length >= 0) {
            if (data.length - bodyStart < length) {
                return null;
            }
            return new Response(status, new String(data, bodyStart, (int) length, StandardCharsets.UTF_8));
        }
        return eof ? new Response(status, new String(data, bodyStart, data.length - bodyStart,
                StandardCharsets.UTF_8)) : null;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
