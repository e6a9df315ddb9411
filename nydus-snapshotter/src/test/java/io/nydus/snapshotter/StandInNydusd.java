package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for nydusd that keeps nydusd's contract with the snapshotter (notes §5.1, §5.3) while serving files
 * without FUSE: it accepts nydusd's command line, treats a "bootstrap" as a tar of the image's files, extracts it
 * and bind-mounts the result on the mountpoint, and answers the HTTP API on {@code --apisock}
 * ({@code GET /api/v1/daemon} → {@code "state":"RUNNING"}, {@code POST|DELETE /api/v1/mount?mountpoint=/x},
 * {@code PUT /api/v1/daemon/exit}). With a registry backend it checks that the config's scheme, host, repo and
 * auth reach the repository ({@code GET /v2/<repo>/tags/list}) before it reports RUNNING, as nydusd would fail
 * to read blobs otherwise. Every start appends its arguments to {@code standin-args} and every config it is given
 * lands in {@code standin-config*.json} beside the API socket, for the tests to inspect.
 *
 * <p>Replaced by the real {@code bin/nydusd} in {@link NydusImageEndToEndTest} once it serves RAFS images.
 */
public final class StandInNydusd {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path apiSock;
    private final Path work;
    private final Path mountpoint;
    private volatile String state = "INIT";

    private StandInNydusd(Path apiSock, Path mountpoint) {
        this.apiSock = apiSock;
        this.work = apiSock.getParent();
        this.mountpoint = mountpoint;
    }

    /** A launcher script for {@code --nydusd}: this class on the test's class path. */
    static Path launcher(Path dir) throws IOException {
        Path script = dir.resolve("nydusd-standin");
        Files.createDirectories(dir);
        Files.writeString(script, "#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp '"
                + System.getProperty("java.class.path") + "' " + StandInNydusd.class.getName() + " \"$@\"\n");
        script.toFile().setExecutable(true);
        return script;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        String mode = "fuse";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "fuse", "singleton", "virtiofs" -> mode = a;
                case "--upgrade", "--writable" -> opts.put(a, "true");
                case "-M", "--mountpoint", "-C", "--config", "-B", "--bootstrap", "-A", "--apisock", "-l",
                        "--log-level", "--thread-num", "--fuse-threads", "-L", "--log-file", "--id", "--supervisor",
                        "--failover-policy", "--prefetch-files" -> {
                    if (i + 1 >= args.length) {
                        fail("missing value of " + a);
                    }
                    opts.put(canonical(a), args[++i]);
                }
                default -> fail("unknown argument " + a);
            }
        }
        if (!mode.equals("fuse")) {
            fail("stand-in serves fuse mode only, got " + mode);
        }
        String sock = opts.get("--apisock");
        String mp = opts.get("--mountpoint");
        if (sock == null || mp == null) {
            fail("--apisock and --mountpoint are required");
        }
        StandInNydusd d = new StandInNydusd(Path.of(sock), Path.of(mp));
        Files.writeString(d.work.resolve("standin-args"), String.join(" ", args) + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Files.createDirectories(d.mountpoint);
        if (opts.containsKey("--bootstrap")) {
            if (!opts.containsKey("--config")) {
                fail("--bootstrap needs --config");
            }
            String config = Files.readString(Path.of(opts.get("--config")));
            d.mountRafs(d.mountpoint, Path.of(opts.get("--bootstrap")), config, "");
        }
        d.state = "RUNNING";
        d.serve();
    }

    private static String canonical(String flag) {
        return switch (flag) {
            case "-M" -> "--mountpoint";
            case "-C" -> "--config";
            case "-B" -> "--bootstrap";
            case "-A" -> "--apisock";
            case "-l" -> "--log-level";
            case "-L" -> "--log-file";
            case "--fuse-threads" -> "--thread-num";
            default -> flag;
        };
    }

    private static void fail(String message) {
        System.err.println("nydusd stand-in: " + message);
        System.exit(1);
    }

    /** Checks the config, extracts the "bootstrap" (a tar) and bind-mounts it on {@code target}. */
    private void mountRafs(Path target, Path bootstrap, String config, String name) throws IOException,
            InterruptedException {
        JsonNode c = JSON.readTree(config);
        Files.writeString(work.resolve("standin-config" + (name.isEmpty() ? "" : "-" + name) + ".json"), config);
        JsonNode backend = c.path("device").path("backend");
        if (backend.path("type").asText().equals("registry")) {
            checkRegistry(backend.path("config"));
        }
        Path content = work.resolve("content-" + ProcessHandle.current().pid() + (name.isEmpty() ? "" : "-" + name));
        Files.createDirectories(content);
        run("tar", "-xf", bootstrap.toString(), "-C", content.toString());
        Files.createDirectories(target);
        run("mount", "--bind", content.toString(), target.toString());
    }

    private static void checkRegistry(JsonNode cfg) throws IOException, InterruptedException {
        String url = cfg.path("scheme").asText("https") + "://" + cfg.path("host").asText() + "/v2/"
                + cfg.path("repo").asText() + "/tags/list";
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (!cfg.path("auth").asText().isEmpty()) {
            req.header("Authorization", "Basic " + cfg.path("auth").asText());
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(req.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            fail("registry backend " + url + " answered " + r.statusCode());
        }
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out);
        }
    }

    private void serve() throws IOException {
        Files.deleteIfExists(apiSock);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(apiSock));
        while (true) {
            SocketChannel ch = server.accept();
            Thread t = new Thread(() -> handle(ch));
            t.setDaemon(true);
            t.start();
        }
    }

    private void handle(SocketChannel ch) {
        try (ch; InputStream in = Channels.newInputStream(ch); OutputStream out = Channels.newOutputStream(ch)) {
            String head = readHead(in);
            String[] lines = head.split("\r\n");
            String[] request = lines[0].split(" ");
            int length = 0;
            for (String l : lines) {
                if (l.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(l.substring(15).trim());
                }
            }
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            String method = request[0];
            URI uri = URI.create(request[1]);
            String query = uri.getQuery() == null ? "" : uri.getQuery();
            String mp = query.startsWith("mountpoint=") ? query.substring("mountpoint=".length()) : "";
            switch (method + " " + uri.getPath()) {
                case "GET /api/v1/daemon" -> reply(out, 200, JSON.writeValueAsString(Map.of("id", "stand-in",
                        "state", state, "version", Map.of("package_ver", "stand-in"), "backend_collection", Map.of())));
                case "POST /api/v1/mount" -> {
                    JsonNode b = JSON.readTree(body);
                    if (!b.path("fs_type").asText().equals("rafs") || mp.isEmpty()) {
                        reply(out, 400, "{\"code\":\"UNDEFINED\",\"message\":\"bad mount request\"}");
                        return;
                    }
                    String name = mp.replaceAll("^/+", "");
                    mountRafs(mountpoint.resolve(name), Path.of(b.path("source").asText()),
                            b.path("config").asText(), name);
                    reply(out, 204, "");
                }
                case "DELETE /api/v1/mount" -> {
                    run("umount", mountpoint.resolve(mp.replaceAll("^/+", "")).toString());
                    reply(out, 204, "");
                }
                case "PUT /api/v1/daemon/exit" -> {
                    reply(out, 204, "");
                    System.exit(0);
                }
                default -> reply(out, 404, "{\"code\":\"UNDEFINED\",\"message\":\"no such endpoint\"}");
            }
        } catch (Exception e) {
            System.err.println("nydusd stand-in: " + e);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static void reply(OutputStream out, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + (status < 300 ? "OK" : "Error") + "\r\nContent-Type: application/json\r\n"
                + (status == 204 ? "" : "Content-Length: " + b.length + "\r\n") + "Connection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (status != 204) {
            out.write(b);
        }
        out.flush();
    }

    static List<String> starts(Path apiSockDir) throws IOException {
        Path f = apiSockDir.resolve("standin-args");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }
}
