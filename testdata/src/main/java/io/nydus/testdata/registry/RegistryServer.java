package io.nydus.testdata.registry;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A real CNCF distribution registry ({@code docker-registry} from Debian) on 127.0.0.1, started for a test.
 * Plain HTTP; optionally with htpasswd basic auth or bearer-token auth (see {@link #withBasicAuth} and
 * {@link #withTokenAuth}). Close it to stop the process; the storage directory is left for inspection.
 */
public final class RegistryServer implements AutoCloseable {
    private final Path work;
    private final int port;
    private final Process process;
    private final Path storage;
    private final String scheme;
    private final Path certificate;

    private RegistryServer(Path work, int port, Process process, Path storage, String scheme, Path certificate) {
        this.work = work;
        this.port = port;
        this.process = process;
        this.storage = storage;
        this.scheme = scheme;
        this.certificate = certificate;
    }

    /** Starts a plain registry storing under {@code work/registry}. */
    public static RegistryServer start(Path work) throws IOException {
        return start(work, "", freePort(), work.resolve("registry"));
    }

    /** Starts a registry with htpasswd (bcrypt) basic auth for {@code user}/{@code password}. */
    public static RegistryServer withBasicAuth(Path work, String user, String password) throws IOException {
        Files.createDirectories(work);
        Path htpasswd = work.resolve("htpasswd");
        run("htpasswd", "-Bbc", htpasswd.toString(), user, password);
        String auth = "auth: {htpasswd: {realm: basic-realm, path: " + htpasswd + "}}\n";
        return start(work, auth, freePort(), work.resolve("registry"));
    }

    /**
     * Starts a registry that accepts bearer tokens issued by a token server at {@code realm}, signed by the key
     * of the PEM certificate {@code certBundle}.
     */
    public static RegistryServer withTokenAuth(Path work, String realm, String service, String issuer, Path certBundle)
            throws IOException {
        String auth = "auth:\n  token:\n    realm: " + realm + "\n    service: " + service + "\n    issuer: " + issuer
                + "\n    rootcertbundle: " + certBundle + "\n";
        return start(work, auth, freePort(), work.resolve("registry"));
    }

    /** Starts a registry that accepts tokens issued by {@code tokens} (service and issuer as it uses them). */
    public static RegistryServer withTokenAuth(Path work, TokenServer tokens) throws IOException {
        return withTokenAuth(work, tokens.realm(), TokenServer.SERVICE, TokenServer.ISSUER, tokens.certificate());
    }

    /**
     * Starts a plain (no auth) registry serving HTTPS with a fresh self-signed certificate for 127.0.0.1 made by
     * openssl; {@link #certificate()} is its PEM file, to give clients as a CA.
     */
    public static RegistryServer withTls(Path work) throws IOException {
        Files.createDirectories(work);
        Path cert = work.resolve("registry-tls.crt");
        Path key = work.resolve("registry-tls.key");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString());
        String tls = "  tls: {certificate: " + cert + ", key: " + key + "}\n";
        return start(work, "", freePort(), work.resolve("registry"), tls, "https", cert);
    }

    /** Starts a plain registry whose Location headers are relative ({@code http.relativeurls}). */
    public static RegistryServer withRelativeUrls(Path work) throws IOException {
        return start(work, "", freePort(), work.resolve("registry"), "  relativeurls: true\n", "http", null);
    }

    /** Starts a second registry process serving the same storage directory (for example on a shaped port). */
    public static RegistryServer sharingStorage(Path work, RegistryServer other, int port) throws IOException {
        return start(work, "", port, other.storage());
    }

    private static RegistryServer start(Path work, String auth, int port, Path storage) throws IOException {
        return start(work, auth, port, storage, "", "http", null);
    }

    private static RegistryServer start(Path work, String auth, int port, Path storage, String httpExtra,
            String scheme, Path certificate) throws IOException {
        Files.createDirectories(work);
        Files.createDirectories(storage);
        Path config = Files.createTempFile(work, "registry-", ".yml");
        Files.writeString(config, "version: 0.1\nlog: {level: error, accesslog: {disabled: false}}\n"
                + "storage:\n  filesystem: {rootdirectory: " + storage + "}\n  delete: {enabled: true}\n"
                + "http:\n  addr: 127.0.0.1:" + port + "\n" + httpExtra + auth);
        Path log = work.resolve("registry-" + port + ".log");
        Process p = new ProcessBuilder("docker-registry", "serve", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        // a test JVM that dies without closing its registries must not leave them running
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
        RegistryServer r = new RegistryServer(work, port, p, storage, scheme, certificate);
        r.awaitReady(log);
        return r;
    }

    private void awaitReady(Path log) throws IOException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("docker-registry exited: " + Files.readString(log));
            }
            try (java.net.Socket s = new java.net.Socket()) {
                // A TCP connect is enough: the registry listens only once its config is loaded.
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                // not up yet
            }
            sleep(50);
        }
        close();
        throw new IOException("docker-registry did not start on port " + port);
    }

    /** {@code 127.0.0.1:PORT}, as used in image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** {@code http://127.0.0.1:PORT} or {@code https://…} for {@link #withTls}. */
    public String url() {
        return scheme + "://" + host();
    }

    public String scheme() {
        return scheme;
    }

    /** The PEM certificate of a {@link #withTls} registry; null otherwise. */
    public Path certificate() {
        return certificate;
    }

    public int port() {
        return port;
    }

    public Path storage() {
        return storage;
    }

    /** The registry's log, including its access log (one line per request). */
    public Path log() {
        return work.resolve("registry-" + port + ".log");
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void run(String... cmd) throws IOException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
