package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nydusd's HTTP API over its unix socket: requests as nydusd expects them, answers as it may frame them. */
class NydusdClientTest {
    @TempDir
    Path dir;

    /** Serves one connection: records the request, sends {@code response} (null: never answers). */
    private CompletableFuture<String> serveOnce(Path sock, String response) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        return CompletableFuture.supplyAsync(() -> {
            try (server; SocketChannel ch = server.accept()) {
                ByteBuffer buf = ByteBuffer.allocate(65536);
                StringBuilder req = new StringBuilder();
                while (true) {
                    buf.clear();
                    int n = ch.read(buf);
                    if (n < 0) {
                        break;
                    }
                    req.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
                    int end = req.indexOf("\r\n\r\n");
                    if (end >= 0) {
                        int len = 0;
                        for (String l : req.substring(0, end).split("\r\n")) {
                            if (l.toLowerCase().startsWith("content-length:")) {
                                len = Integer.parseInt(l.substring(15).trim());
                            }
                        }
                        if (req.length() >= end + 4 + len) {
                            break;
                        }
                    }
                }
                if (response == null) {
                    Thread.sleep(2000);
                } else {
                    ch.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.UTF_8)));
                }
                return req.toString();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void daemonStateWithContentLengthAndChunkedBodies() throws Exception {
        Path sock = dir.resolve("a.sock");
        String body = "{\"id\":\"x\",\"state\":\"RUNNING\",\"version\":{\"package_ver\":\"2.2\"}}";
        CompletableFuture<String> req = serveOnce(sock, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body);
        NydusdClient c = new NydusdClient(sock, Duration.ofSeconds(5));
        assertEquals("RUNNING", c.state());
        assertTrue(req.get().startsWith("GET /api/v1/daemon HTTP/1.1\r\n"), req.get());

        Path sock2 = dir.resolve("b.sock");
        serveOnce(sock2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"sta\r\n"
                + "11\r\nte\":\"READY\"}     \r\n0\r\n\r\n");
        assertEquals("READY", new NydusdClient(sock2, Duration.ofSeconds(5)).state());
    }

    @Test
    void mountSendsUpstreamsBody() throws Exception {
        Path sock = dir.resolve("m.sock");
        CompletableFuture<String> req = serveOnce(sock, "HTTP/1.1 204 No Content\r\n\r\n");
        new NydusdClient(sock, Duration.ofSeconds(5)).mount("/42", "/root/snapshots/42/fs/image/image.boot",
                "{\"device\":{}}");
        String r = req.get();
        assertTrue(r.startsWith("POST /api/v1/mount?mountpoint=/42 HTTP/1.1\r\n"), r);
        JsonNode b = new ObjectMapper().readTree(r.substring(r.indexOf("\r\n\r\n") + 4));
        assertEquals("rafs", b.path("fs_type").asText());
        assertEquals("/root/snapshots/42/fs/image/image.boot", b.path("source").asText());
        assertEquals("{\"device\":{}}", b.path("config").asText(), "the config travels as a JSON string");
    }

    @Test
    void errorsAndSilenceBecomeOneLineIOExceptions() throws Exception {
        Path sock = dir.resolve("e.sock");
        String err = "{\"code\":\"UNDEFINED\",\"message\":\"not ready\"}";
        serveOnce(sock, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: " + err.length() + "\r\n\r\n" + err);
        IOException e = assertThrows(IOException.class, () -> new NydusdClient(sock, Duration.ofSeconds(5))
                .mount("/1", "/b", "{}"));
        assertTrue(e.getMessage().contains("HTTP 503") && e.getMessage().contains("not ready"), e.getMessage());

        Path silent = dir.resolve("s.sock");
        serveOnce(silent, null);
        e = assertThrows(IOException.class, () -> new NydusdClient(silent, Duration.ofMillis(300)).state());
        assertTrue(e.getMessage().contains("did not answer within 300 ms"), e.getMessage());

        e = assertThrows(IOException.class, () -> new NydusdClient(dir.resolve("none.sock"), Duration.ofSeconds(1))
                .state());
    }
}
