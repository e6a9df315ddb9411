package io.nydus.blobcache.registry;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The data path of blob range reads: blocking HTTP/1.1 connections kept alive per origin, reading a 206 (or 200)
 * body straight into the caller's array.
 *
 * <p>Why not the JDK HttpClient, which serves everything else: its body subscribers receive the body in 16 KiB
 * buffers that must be copied, and it peaks at ~0.5 GB/s per request on loopback where a plain socket (and curl)
 * reach ~1.5 GB/s. Only the success case is handled here; any other answer (401, redirects, errors) or I/O failure
 * makes {@link #read} return false, and the caller takes the general path, which knows about auth challenges,
 * redirects, retries and error reporting.
 */
final class RangeConnections implements AutoCloseable {
    private static final int MAX_HEADER = 16 << 10;
    /** A 200 answer (whole blob) is used only when the wanted bytes come early in it. */
    private static final long MAX_SKIP = 4 << 20;
    /** Remaining body bytes worth reading to keep a connection, rather than closing it. */
    private static final long MAX_DRAIN = 64 << 10;
    private static final long IDLE_NANOS = 30_000_000_000L;

    private final SSLContext ssl;
    private final boolean verifyHostname;
    private final int timeoutMillis;
    private final int connectTimeoutMillis;
    private final Map<String, Deque<Connection>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    RangeConnections(SSLContext ssl, boolean verifyHostname, int timeoutMillis, int connectTimeoutMillis) {
        this.ssl = ssl;
        this.verifyHostname = verifyHostname;
        this.timeoutMillis = timeoutMillis;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    private static final class Connection {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        long lastUsed = System.nanoTime();

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 64 << 10);
            this.out = socket.getOutputStream();
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    /**
     * The result of a read: {@code done} when the bytes are in place; otherwise the status of the answer (0 when the
     * exchange failed) and its Location header, for the caller to act on.
     */
    record Answer(boolean done, int status, String location) {
        static final Answer FAILED = new Answer(false, 0, null);
    }

    /**
     * GETs {@code uri} with {@code headers} (which carry the Range) and copies bytes {@code [offset, offset+len)} of
     * the resource into {@code dst[dstOff…]}. Anything but a usable 200/206 leaves nothing usable in dst.
     */
    Answer read(URI uri, Map<String, String> headers, long offset, byte[] dst, int dstOff, int len) {
        if (closed) {
            return Answer.FAILED;
        }
        String origin = uri.getScheme() + "://" + uri.getHost() + ":" + port(uri);
        for (int attempt = 0; attempt < 2; attempt++) {
            Connection c = checkout(origin);
            boolean reused = c != null;
            try {
                if (c == null) {
                    c = open(uri);
                }
                Exchange x = exchange(c, uri, headers, offset, dst, dstOff, len);
                if (x.done && x.keepAlive) {
                    c.lastUsed = System.nanoTime();
                    idle.computeIfAbsent(origin, k -> new ConcurrentLinkedDeque<>()).push(c);
                } else {
                    c.close();
                }
                return new Answer(x.done, x.status, x.location);
            } catch (StaleConnection e) {
                c.close();
                if (!reused) {
                    return Answer.FAILED;
                }
                // a kept-alive connection the server had closed: try once more on a fresh one
            } catch (IOException | RuntimeException e) {
                if (c != null) {
                    c.close();
                }
                return Answer.FAILED;
            }
        }
        return Answer.FAILED;
    }

    /** What one exchange gave. */
    private record Exchange(boolean done, boolean keepAlive, int status, String location) {
        static Exchange notHandled(int status, String location) {
            return new Exchange(false, false, status, location);
        }
    }

    /** The server closed a kept-alive connection before answering. */
    private static final class StaleConnection extends IOException {
        private static final long serialVersionUID = 1L;
    }

    private Exchange exchange(Connection c, URI uri, Map<String, String> headers, long offset, byte[] dst, int dstOff,
            int len) throws IOException {
        StringBuilder req = new StringBuilder(256);
        String path = uri.getRawPath() + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
        req.append("GET ").append(path.isEmpty() ? "/" : path).append(" HTTP/1.1\r\n");
        req.append("Host: ").append(uri.getHost());
        if (uri.getPort() != -1) {
            req.append(':').append(uri.getPort());
        }
        req.append("\r\n");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            req.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        req.append("\r\n");
        try {
            c.out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            c.out.flush();
        } catch (IOException e) {
            throw new StaleConnection();
        }
        String status = line(c.in, true);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            return Exchange.notHandled(0, null);
        }
        int code = Integer.parseInt(parts[1]);
        long length = -1;
        String range = null;
        String location = null;
        boolean keepAlive = parts[0].equals("HTTP/1.1");
        int headerBytes = status.length();
        while (true) {
            String h = line(c.in, false);
            headerBytes += h.length();
            if (headerBytes > MAX_HEADER) {
                return Exchange.notHandled(0, null);
            }
            if (h.isEmpty()) {
                break;
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "content-range" -> range = value;
                case "location" -> location = value;
                case "transfer-encoding" -> {
                    if (!value.equalsIgnoreCase("identity")) {
                        length = -2; // chunked bodies are left to the general path
                    }
                }
                case "connection" -> keepAlive = !value.equalsIgnoreCase("close");
                default -> {
                }
            }
        }
        if ((code != 200 && code != 206) || length < 0) {
            return Exchange.notHandled(code, location);
        }
        long skip;
        if (code == 206) {
            ContentRange r = range == null ? null : ContentRange.parse(range);
            if (r == null || r.first() > offset || r.last() < offset + len - 1 || r.last() - r.first() + 1 != length) {
                return Exchange.notHandled(code, null);
            }
            skip = offset - r.first();
        } else {
            if (offset > MAX_SKIP || length < offset + len) {
                return Exchange.notHandled(code, null);
            }
            skip = offset;
        }
        skipFully(c.in, skip);
        int done = 0;
        while (done < len) {
            int n = c.in.read(dst, dstOff + done, len - done);
            if (n < 0) {
                throw new IOException("body ended early");
            }
            done += n;
        }
        long rest = length - skip - len;
        if (keepAlive && rest <= MAX_DRAIN) {
            skipFully(c.in, rest);
            return new Exchange(true, true, code, null);
        }
        return new Exchange(true, false, code, null);
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        while (n > 0) {
            long s = in.skip(n);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new IOException("body ended early");
                }
                s = 1;
            }
            n -= s;
        }
    }

    /** One CRLF-terminated header line (Latin-1); an immediate EOF on the status line means a stale connection. */
    private static String line(InputStream in, boolean statusLine) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                if (statusLine && sb.length() == 0) {
                    throw new StaleConnection();
                }
                throw e;
            }
            if (b < 0) {
                if (statusLine && sb.length() == 0) {
                    throw new StaleConnection();
                }
                throw new IOException("connection closed in the headers");
            }
            if (b == '\n') {
                int l = sb.length();
                return l > 0 && sb.charAt(l - 1) == '\r' ? sb.substring(0, l - 1) : sb.toString();
            }
            sb.append((char) b);
            if (sb.length() > MAX_HEADER) {
                throw new IOException("header line too long");
            }
        }
    }

    private Connection checkout(String origin) {
        Deque<Connection> q = idle.get(origin);
        if (q == null) {
            return null;
        }
        Connection c;
        while ((c = q.poll()) != null) {
            if (System.nanoTime() - c.lastUsed < IDLE_NANOS && !c.socket.isClosed()) {
                return c;
            }
            c.close();
        }
        return null;
    }

    private Connection open(URI uri) throws IOException {
        String host = uri.getHost();
        int port = port(uri);
        Socket raw = new Socket();
        try {
            raw.setTcpNoDelay(true);
            raw.setSoTimeout(timeoutMillis);
            raw.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            if (!"https".equalsIgnoreCase(uri.getScheme())) {
                return new Connection(raw);
            }
            SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket(raw, host, port, true);
            SSLParameters p = s.getSSLParameters();
            if (!Character.isDigit(host.charAt(0)) && !host.contains(":")) {
                p.setServerNames(List.of(new SNIHostName(host)));
            }
            if (verifyHostname) {
                p.setEndpointIdentificationAlgorithm("HTTPS");
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return new Connection(s);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** The port of an http(s) URI, defaulting by scheme. */
    static int port(URI uri) {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    @Override
    public void close() {
        closed = true;
        for (Deque<Connection> q : idle.values()) {
            Connection c;
            while ((c = q.poll()) != null) {
                c.close();
            }
        }
    }
}
