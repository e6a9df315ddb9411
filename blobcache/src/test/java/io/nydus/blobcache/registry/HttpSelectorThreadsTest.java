package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

class HttpSelectorThreadsTest {

    @Test
    void stopEndsTheSelectorThreadOfAClientThatHasServedARequest() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            HttpClient client = RegistryClient.newHttpClient(Duration.ofSeconds(5), SSLContext.getDefault(), null);
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("ok", r.body());
            assertFalse(liveSelectorThreads().isEmpty(), "a client in use has a selector thread");

            HttpSelectorThreads.stop();

            assertTrue(liveSelectorThreads().isEmpty(), "still running: " + liveSelectorThreads());
            Reference.reachabilityFence(client); // the thread ended because of stop(), not because the client was collected
        } finally {
            server.stop(0);
        }
    }

    private static List<String> liveSelectorThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("HttpClient-") && n.endsWith("-SelectorManager")).collect(Collectors.toList());
    }
}
