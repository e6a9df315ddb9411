package io.nydus.testdata.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Docker token-auth server for {@link RegistryServer#withTokenAuth}: issues RS256 JWTs signed by a key whose
 * self-signed certificate ({@link #certificate()}) the registry trusts. Answers {@code GET /token} (credentials in
 * Basic auth, as docker and skopeo send them) and {@code POST /token} (an OAuth2 password-grant form, as containerd
 * sends it). Users are checked against {@link #addUser}; anonymous clients get pull access only when
 * {@link #allowAnonymousPull} is set. Counts what it issued so tests can prove that a client refreshed its token.
 */
public final class TokenServer implements AutoCloseable {
    public static final String ISSUER = "test-issuer";
    public static final String SERVICE = "test-registry";
    /** How long after {@code exp} docker-registry 2.8 still accepts a token. */
    public static final int REGISTRY_LEEWAY_SECONDS = 60;

    private final HttpServer server;
    private final Path certificate;
    private final PrivateKey key;
    private final String certDerBase64;
    private final Map<String, String> users = new ConcurrentHashMap<>();
    private final AtomicInteger issued = new AtomicInteger();
    private final AtomicInteger postRequests = new AtomicInteger();
    private final AtomicInteger getRequests = new AtomicInteger();
    private final AtomicInteger rejected = new AtomicInteger();
    private volatile int expiresInSeconds = 300;
    private volatile boolean anonymousPull;
    private volatile boolean postEnabled = true;
    private volatile boolean omitExpiresIn;
    private volatile boolean accessTokenOnly;
    private final AtomicInteger useless = new AtomicInteger();
    private volatile boolean strictExpiry;
    private final List<String> scopesSeen = java.util.Collections.synchronizedList(new ArrayList<>());

    private TokenServer(HttpServer server, Path certificate, PrivateKey key, String certDerBase64) {
        this.server = server;
        this.certificate = certificate;
        this.key = key;
        this.certDerBase64 = certDerBase64;
    }

    /** Makes a key pair and certificate under {@code work} with openssl and starts serving on a free port. */
    public static TokenServer start(Path work) throws IOException {
        Files.createDirectories(work);
        Path keyFile = work.resolve("token.key");
        Path certFile = work.resolve("token.crt");
        RegistryServer.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=" + ISSUER, "-keyout", keyFile.toString(), "-out", certFile.toString());
        PrivateKey key;
        try {
            byte[] der = pemBody(Files.readString(keyFile), "PRIVATE KEY");
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot load " + keyFile + ": " + e.getMessage(), e);
        }
        String certDer = Base64.getEncoder().encodeToString(pemBody(Files.readString(certFile), "CERTIFICATE"));
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        TokenServer ts = new TokenServer(http, certFile, key, certDer);
        http.createContext("/token", ts::handle);
        http.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "token-server");
            t.setDaemon(true);
            return t;
        }));
        http.start();
        return ts;
    }

    private static byte[] pemBody(String pem, String type) throws IOException {
        String begin = "-----BEGIN " + type + "-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf("-----END " + type + "-----");
        if (b < 0 || e < 0) {
            throw new IOException("no " + type + " in PEM");
        }
        return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
    }

    public TokenServer addUser(String user, String password) {
        users.put(user, password);
        return this;
    }

    /** Lifetime of issued tokens ({@code expires_in}). */
    public TokenServer expiresIn(int seconds) {
        this.expiresInSeconds = seconds;
        return this;
    }

    /** Grants pull (never push) to clients without credentials. */
    public TokenServer allowAnonymousPull(boolean allow) {
        this.anonymousPull = allow;
        return this;
    }

    /** When false, {@code POST /token} answers 405 so that clients must fall back to GET. */
    public TokenServer postEnabled(boolean enabled) {
        this.postEnabled = enabled;
        return this;
    }

    /** Leaves {@code expires_in} out of responses (clients then assume their default lifetime). */
    public TokenServer omitExpiresIn(boolean omit) {
        this.omitExpiresIn = omit;
        return this;
    }

    /** Answers with {@code access_token} only (the OAuth2 field name) instead of both names. */
    public TokenServer accessTokenOnly(boolean only) {
        this.accessTokenOnly = only;
        return this;
    }

    /**
     * docker-registry accepts a token up to {@value #REGISTRY_LEEWAY_SECONDS} s after its {@code exp} (clock skew
     * leeway). With strict expiry the {@code exp} claim is moved back by that much, so that the registry refuses a
     * token exactly when {@code expires_in} says it expires: a client that does not renew its tokens then fails.
     */
    public TokenServer strictExpiry(boolean strict) {
        this.strictExpiry = strict;
        return this;
    }

    /** The next {@code n} tokens grant nothing (the registry will refuse them), as a revoked token would. */
    public TokenServer issueUselessTokens(int n) {
        useless.set(n);
        return this;
    }

    /** The realm URL to configure in the registry. */
    public String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** PEM certificate of the signing key: the registry's {@code rootcertbundle}. */
    public Path certificate() {
        return certificate;
    }

    public int issuedTokens() {
        return issued.get();
    }

    public int postRequests() {
        return postRequests.get();
    }

    public int getRequests() {
        return getRequests.get();
    }

    /** Requests refused for bad credentials. */
    public int rejectedRequests() {
        return rejected.get();
    }

    /** Every scope parameter received, in order. */
    public List<String> scopesSeen() {
        synchronized (scopesSeen) {
            return List.copyOf(scopesSeen);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Map<String, List<String>> params;
            String user = null;
            String password = null;
            if (ex.getRequestMethod().equals("POST")) {
                postRequests.incrementAndGet();
                if (!postEnabled) {
                    reply(ex, 405, "{\"error\":\"method not allowed\"}");
                    return;
                }
                params = parseForm(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                if ("password".equals(first(params, "grant_type"))) {
                    user = first(params, "username");
                    password = first(params, "password");
                }
            } else if (ex.getRequestMethod().equals("GET")) {
                getRequests.incrementAndGet();
                params = parseForm(ex.getRequestURI().getRawQuery());
            } else {
                reply(ex, 405, "{\"error\":\"method not allowed\"}");
                return;
            }
            String authz = ex.getRequestHeaders().getFirst("Authorization");
            if (user == null && authz != null && authz.regionMatches(true, 0, "Basic ", 0, 6)) {
                String pair = new String(Base64.getDecoder().decode(authz.substring(6).trim()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                user = colon < 0 ? pair : pair.substring(0, colon);
                password = colon < 0 ? "" : pair.substring(colon + 1);
            }
            boolean authenticated = false;
            if (user != null) {
                if (!password.equals(users.get(user))) {
                    rejected.incrementAndGet();
                    reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}");
                    return;
                }
                authenticated = true;
            } else if (!anonymousPull) {
                rejected.incrementAndGet();
                reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"credentials required\"}]}");
                return;
            }
            List<String> access = new ArrayList<>();
            for (String scope : params.getOrDefault("scope", List.of())) {
                for (String one : scope.split(" ")) {
                    if (one.isEmpty()) {
                        continue;
                    }
                    scopesSeen.add(one);
                    String[] parts = one.split(":");
                    if (parts.length < 3 || !parts[0].equals("repository")) {
                        continue;
                    }
                    String name = String.join(":", java.util.Arrays.copyOfRange(parts, 1, parts.length - 1));
                    List<String> actions = new ArrayList<>();
                    for (String a : parts[parts.length - 1].split(",")) {
                        if (a.equals("pull") || (authenticated && (a.equals("push") || a.equals("delete")))) {
                            actions.add(jsonString(a));
                        }
                    }
                    access.add("{\"type\":\"repository\",\"name\":" + jsonString(name) + ",\"actions\":["
                            + String.join(",", actions) + "]}");
                }
            }
            if (useless.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                access.clear();
            }
            String token = sign(authenticated ? user : "", first(params, "service"), access);
            issued.incrementAndGet();
            StringBuilder body = new StringBuilder("{");
            if (!accessTokenOnly) {
                body.append("\"token\":").append(jsonString(token)).append(',');
            }
            body.append("\"access_token\":").append(jsonString(token));
            if (!omitExpiresIn) {
                body.append(",\"expires_in\":").append(expiresInSeconds);
            }
            body.append(",\"issued_at\":").append(jsonString(Instant.now().toString())).append('}');
            reply(ex, 200, body.toString());
        } catch (RuntimeException e) {
            reply(ex, 500, "{\"error\":" + jsonString(String.valueOf(e)) + "}");
        }
    }

    private String sign(String subject, String service, List<String> access) throws IOException {
        long now = Instant.now().getEpochSecond();
        long exp = now + expiresInSeconds - (strictExpiry ? REGISTRY_LEEWAY_SECONDS : 0);
        String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[" + jsonString(certDerBase64) + "]}";
        String claims = "{\"iss\":" + jsonString(ISSUER) + ",\"sub\":" + jsonString(subject) + ",\"aud\":"
                + jsonString(service == null ? SERVICE : service) + ",\"exp\":" + exp
                + ",\"nbf\":" + Math.min(now - 1, exp) + ",\"iat\":" + now + ",\"jti\":" + jsonString(UUID.randomUUID().toString())
                + ",\"access\":[" + String.join(",", access) + "]}";
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(key);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + b64.encodeToString(s.sign());
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("signing failed: " + e.getMessage(), e);
        }
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    static Map<String, List<String>> parseForm(String s) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        if (s == null || s.isEmpty()) {
            return m;
        }
        for (String pair : s.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return m;
    }

    private static String first(Map<String, List<String>> m, String k) {
        List<String> v = m.get(k);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
