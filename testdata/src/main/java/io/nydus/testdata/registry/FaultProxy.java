package io.nydus.testdata.registry;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP/1.1 reverse proxy in front of a real registry that injects network faults: connection resets,
 * 500/502/503 answers, truncated bodies, stalls and flipped bytes. Clients talk to it as if it were the registry
 * ({@link #host()}). Faults are planned per request ({@link #planFaults}) or drawn at random
 * ({@link #randomFaults}), and apply only to requests matching {@link #onlyFor} (by default blob GETs and HEADs).
 *
 * <p>This is the one in-process fake the tests allow: everything it forwards is answered by the real registry.
 * Each forwarded request uses a fresh upstream connection; client connections are kept alive.
 */
public final class FaultProxy implements AutoCloseable {

    /** What happens to one request. */
    public enum Fault {
        /** Forwarded untouched. */
        NONE,
        /** The client connection is reset (RST) before any answer. */
        RESET,
        STATUS_500,
        STATUS_502,
        STATUS_503,
        /** Headers announce the full length; half the body is sent, then the connection is closed. */
        TRUNCATE,
        /** Headers and half the body are sent, then nothing for {@link #stallMillis}, then the connection closes. */
        STALL,
        /** The full answer with one byte of the body inverted. */
        FLIP_BYTE,
        /** The request is forwarded without its Range header: a 200 answer with the whole blob. */
        FULL_BODY
    }

    /** A request as the proxy saw it. */
    public record Request(String method, String target, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private static final Set<String> HOP_HEADERS = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade");

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private final Deque<Fault> planned = new ArrayDeque<>();
    private final Map<Fault, AtomicInteger> injected = new EnumMap<>(Fault.class);
    private final AtomicInteger requests = new AtomicInteger();
    private final List<Request> seen = Collections.synchronizedList(new ArrayList<>());
    private volatile Predicate<Request> filter = FaultProxy::isBlobRead;
    private volatile double probability;
    private volatile List<Fault> randomKinds = List.of();
    private volatile Random random = new Random(1);
    private volatile long stallMillis = 30_000;
    private volatile boolean closed;

    private FaultProxy(ServerSocket server, String upstreamHost, int upstreamPort) {
        this.server = server;
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        for (Fault f : Fault.values()) {
            injected.put(f, new AtomicInteger());
        }
    }

    /** Starts a proxy on a free 127.0.0.1 port in front of {@code upstream} ("host:port"). */
    public static FaultProxy start(String upstream) throws IOException {
        int colon = upstream.lastIndexOf(':');
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        FaultProxy p = new FaultProxy(ss, upstream.substring(0, colon), Integer.parseInt(upstream.substring(colon + 1)));
        Thread t = new Thread(p::acceptLoop, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
        return p;
    }

    /** {@code 127.0.0.1:PORT}: give this to the client instead of the registry's host. */
    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public String url() {
        return "http://" + host();
    }

    public static boolean isBlobRead(Request r) {
        return (r.method().equals("GET") || r.method().equals("HEAD")) && r.target().contains("/blobs/sha256:");
    }

    /** Which requests faults apply to; others are always forwarded untouched. */
    public FaultProxy onlyFor(Predicate<Request> which) {
        this.filter = which;
        return this;
    }

    /** Queues faults for the next matching requests, in order; afterwards random faults (if any) apply. */
    public FaultProxy planFaults(Fault... next) {
        synchronized (planned) {
            planned.addAll(List.of(next));
        }
        return this;
    }

    /** Each matching request (with no planned fault left) gets one of {@code kinds} with {@code p} probability. */
    public FaultProxy randomFaults(double p, long seed, Fault... kinds) {
        this.random = new Random(seed);
        this.randomKinds = List.of(kinds);
        this.probability = p;
        return this;
    }

    /** How long a {@link Fault#STALL} keeps the client waiting. */
    public FaultProxy stallMillis(long millis) {
        this.stallMillis = millis;
        return this;
    }

    /** Stops injecting faults (planned and random). */
    public FaultProxy clearFaults() {
        synchronized (planned) {
            planned.clear();
        }
        this.probability = 0;
        return this;
    }

    /** Requests received, faulted or not. */
    public int requests() {
        return requests.get();
    }

    /** Faults injected so far (excluding {@link Fault#NONE}). */
    public int faultsInjected() {
        int n = 0;
        for (Map.Entry<Fault, AtomicInteger> e : injected.entrySet()) {
            if (e.getKey() != Fault.NONE) {
                n += e.getValue().get();
            }
        }
        return n;
    }

    public int injected(Fault f) {
        return injected.get(f).get();
    }

    /** Every request received, in arrival order. */
    public List<Request> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    private Fault nextFault(Request r) {
        if (!filter.test(r)) {
            return Fault.NONE;
        }
        synchronized (planned) {
            if (!planned.isEmpty()) {
                return planned.poll();
            }
        }
        List<Fault> kinds = randomKinds;
        if (probability > 0 && !kinds.isEmpty()) {
            synchronized (this) {
                if (random.nextDouble() < probability) {
                    return kinds.get(random.nextInt(kinds.size()));
                }
            }
        }
        return Fault.NONE;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                clients.add(s);
                Thread t = new Thread(() -> serve(s), "fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            while (!closed) {
                List<String> head = readHead(in);
                if (head == null) {
                    return;
                }
                String[] line = head.get(0).split(" ", 3);
                Map<String, String> headers = headerMap(head);
                byte[] body = readBody(in, headers, false);
                Request req = new Request(line[0], line[1], headers);
                requests.incrementAndGet();
                seen.add(req);
                Fault fault = nextFault(req);
                injected.get(fault).incrementAndGet();
                switch (fault) {
                    case RESET -> {
                        client.setSoLinger(true, 0);
                        return;
                    }
                    case STATUS_500, STATUS_502, STATUS_503 -> {
                        int status = Integer.parseInt(fault.name().substring(7));
                        byte[] err = ("{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"injected " + status + "\"}]}")
                                .getBytes(StandardCharsets.UTF_8);
                        out.write(("HTTP/1.1 " + status + " Injected\r\nContent-Type: application/json\r\n"
                                + "Content-Length: " + err.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        if (!req.method().equals("HEAD")) {
                            out.write(err);
                        }
                        out.flush();
                        continue;
                    }
                    default -> {
                    }
                }
                if (fault == Fault.FULL_BODY) {
                    head = new ArrayList<>(head);
                    head.removeIf(h -> h.toLowerCase(Locale.ROOT).startsWith("range:"));
                }
                Upstream answer = forward(req, head, body);
                if (!relay(answer, fault, req.method().equals("HEAD"), out)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away or upstream failed: drop the connection
        } finally {
            clients.remove(client);
        }
    }

    private record Upstream(String statusLine, List<String> headerLines, byte[] body) {
    }

    private Upstream forward(Request req, List<String> head, byte[] body) throws IOException {
        try (Socket up = new Socket()) {
            up.connect(new InetSocketAddress(upstreamHost, upstreamPort), 5000);
            StringBuilder sb = new StringBuilder(head.get(0)).append("\r\n");
            for (int i = 1; i < head.size(); i++) {
                String h = head.get(i);
                String name = h.substring(0, Math.max(0, h.indexOf(':'))).trim().toLowerCase(Locale.ROOT);
                if (!HOP_HEADERS.contains(name) && !name.equals("content-length")) {
                    sb.append(h).append("\r\n");
                }
            }
            if (body.length > 0 || req.headers().containsKey("content-length")
                    || req.headers().containsKey("transfer-encoding")) {
                sb.append("Content-Length: ").append(body.length).append("\r\n");
            }
            sb.append("Connection: close\r\n\r\n");
            OutputStream uo = up.getOutputStream();
            uo.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            uo.write(body);
            uo.flush();
            InputStream ui = new BufferedInputStream(up.getInputStream());
            List<String> rh = readHead(ui);
            if (rh == null) {
                throw new EOFException("upstream closed without an answer");
            }
            int status = Integer.parseInt(rh.get(0).split(" ", 3)[1]);
            boolean bodiless = req.method().equals("HEAD") || status == 204 || status == 304 || status < 200;
            byte[] rb = bodiless ? new byte[0] : readBody(ui, headerMap(rh), true);
            return new Upstream(rh.get(0), rh.subList(1, rh.size()), rb);
        }
    }

    /** Writes the answer with {@code fault} applied; false when the client connection must be closed. */
    private boolean relay(Upstream a, Fault fault, boolean head, OutputStream out) throws IOException {
        StringBuilder sb = new StringBuilder(a.statusLine()).append("\r\n");
        for (String h : a.headerLines()) {
            String name = h.substring(0, Math.max(0, h.indexOf(':'))).trim().toLowerCase(Locale.ROOT);
            if (HOP_HEADERS.contains(name) || (!head && name.equals("content-length"))) {
                continue;
            }
            sb.append(h).append("\r\n");
        }
        if (!head) {
            sb.append("Content-Length: ").append(a.body().length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] headBytes = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = a.body();
        switch (fault) {
            case TRUNCATE, STALL -> {
                if (body.length == 0) {
                    out.write(headBytes, 0, headBytes.length / 2);
                } else {
                    out.write(headBytes);
                    out.write(body, 0, body.length / 2);
                }
                out.flush();
                if (fault == Fault.STALL) {
                    sleep(stallMillis);
                }
                return false;
            }
            case FLIP_BYTE -> {
                if (body.length > 0) {
                    body = body.clone();
                    body[body.length / 2] ^= (byte) 0xFF;
                }
            }
            default -> {
            }
        }
        out.write(headBytes);
        out.write(body);
        out.flush();
        return true;
    }

    private static List<String> readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (lines.isEmpty() && sb.length() == 0) {
                    return null;
                }
                throw new EOFException("connection closed inside a header");
            }
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                if (sb.length() == 0) {
                    if (lines.isEmpty()) {
                        continue;
                    }
                    return lines;
                }
                lines.add(sb.toString());
                sb.setLength(0);
            } else {
                sb.append((char) c);
            }
        }
    }

    private static Map<String, String> headerMap(List<String> head) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 1; i < head.size(); i++) {
            String h = head.get(i);
            int colon = h.indexOf(':');
            if (colon > 0) {
                m.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
        }
        return m;
    }

    private static byte[] readBody(InputStream in, Map<String, String> headers, boolean untilEof) throws IOException {
        String te = headers.get("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(in);
                int semi = sizeLine.indexOf(';');
                int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers
                    }
                    return bo.toByteArray();
                }
                bo.write(in.readNBytes(size));
                readLine(in);
            }
        }
        String cl = headers.get("content-length");
        if (cl != null) {
            int n = Integer.parseInt(cl.trim());
            byte[] b = in.readNBytes(n);
            if (b.length != n) {
                throw new EOFException("body shorter than Content-Length");
            }
            return b;
        }
        return untilEof ? in.readAllBytes() : new byte[0];
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new EOFException();
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        for (Socket s : clients) {
            try {
                s.close();
            } catch (IOException e) {
                // ignore
            }
        }
    }
}
