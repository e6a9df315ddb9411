package io.nydus.blobcache.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks a token server (the {@code realm} of a Bearer challenge) for a token. With a password it first POSTs an
 * OAuth2 password grant ({@code grant_type=password&username&password&service&scope…&client_id}); if the server does
 * not take that, it falls back to the Docker token GET ({@code ?service&scope…} with Basic auth) and remembers for
 * that token server which one works. Without a password it asks anonymously by GET. Always direct, never through the
 * Dragonfly proxy.
 */
final class TokenEndpoint {
    static final String CLIENT_ID = "nydus-registry-client";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ANSWER = 1 << 20;

    private final HttpClient client;
    private final Duration timeout;
    private final String userAgent;
    /** Token server authority → whether POST works there (absent: not tried yet). */
    private final Map<String, Boolean> postWorks = new ConcurrentHashMap<>();

    TokenEndpoint(HttpClient client, Duration timeout, String userAgent) {
        this.client = client;
        this.timeout = timeout;
        this.userAgent = userAgent;
    }

    BearerTokenCache.Token fetch(BearerTokenCache.Key key, RegistryCredentials creds) throws IOException {
        URI realm;
        try {
            realm = URI.create(key.realm());
        } catch (IllegalArgumentException e) {
            throw RegistryException.failed("token realm '" + key.realm() + "'", "not a URL", e);
        }
        if (realm.getScheme() == null || realm.getHost() == null) {
            throw RegistryException.failed("token realm '" + key.realm() + "'", "not an absolute URL", null);
        }
        String authority = realm.getRawAuthority();
        boolean canPost = creds.hasPassword() && postWorks.getOrDefault(authority, Boolean.TRUE);
        if (canPost) {
            long started = System.nanoTime();
            HttpResponse<byte[]> r = send(postRequest(realm, key, creds), key);
            if (r.statusCode() / 100 == 2) {
                postWorks.put(authority, Boolean.TRUE);
                return parse(r, key, started);
            }
            // Some token servers only implement the Docker GET flow; it is tried next.
            postWorks.put(authority, Boolean.FALSE);
        }
        long started = System.nanoTime();
        HttpResponse<byte[]> r = send(getRequest(realm, key, creds), key);
        if (r.statusCode() / 100 != 2) {
            throw RegistryException.of(what(key), r.statusCode(), r.body());
        }
        return parse(r, key, started);
    }

    private HttpRequest postRequest(URI realm, BearerTokenCache.Key key, RegistryCredentials creds) {
        StringJoiner form = new StringJoiner("&");
        form.add("grant_type=password");
        form.add("username=" + enc(creds.username()));
        form.add("password=" + enc(creds.password()));
        if (key.service() != null) {
            form.add("service=" + enc(key.service()));
        }
        for (String s : key.sortedScopes()) {
            form.add("scope=" + enc(s));
        }
        form.add("client_id=" + CLIENT_ID);
        return HttpRequest.newBuilder(realm).timeout(timeout).header("User-Agent", userAgent)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form.toString())).build();
    }

    private HttpRequest getRequest(URI realm, BearerTokenCache.Key key, RegistryCredentials creds) {
        StringJoiner q = new StringJoiner("&");
        if (key.service() != null) {
            q.add("service=" + enc(key.service()));
        }
        for (String s : key.sortedScopes()) {
            q.add("scope=" + enc(s));
        }
        q.add("client_id=" + CLIENT_ID);
        String base = realm.toString();
        URI uri = URI.create(base + (realm.getRawQuery() == null ? "?" : "&") + q);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("User-Agent", userAgent).GET();
        String basic = creds.basicAuthorization();
        if (basic != null) {
            b.header("Authorization", basic);
        }
        return b.build();
    }

    private HttpResponse<byte[]> send(HttpRequest req, BearerTokenCache.Key key) throws IOException {
        try {
            return client.send(req, info -> new BoundedBytes(MAX_ANSWER));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(what(key) + ": interrupted");
        } catch (IOException e) {
            throw RegistryException.failed(what(key), describe(e), e);
        }
    }

    private static BearerTokenCache.Token parse(HttpResponse<byte[]> r, BearerTokenCache.Key key, long started)
            throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(r.body());
        } catch (IOException e) {
            throw RegistryException.failed(what(key), "answer is not JSON", e);
        }
        String token = n.path("token").asText("");
        if (token.isEmpty()) {
            token = n.path("access_token").asText("");
        }
        if (token.isEmpty()) {
            throw RegistryException.failed(what(key), "answer has neither 'token' nor 'access_token'", null);
        }
        long expiresIn = n.path("expires_in").asLong(0);
        Duration life = expiresIn > 0 ? Duration.ofSeconds(expiresIn) : BearerTokenCache.DEFAULT_LIFETIME;
        return new BearerTokenCache.Token(token, started, life);
    }

    private static String what(BearerTokenCache.Key key) {
        return "token server " + key.realm() + " (service " + key.service() + ", scope " + String.join(" ",
                key.sortedScopes()) + ")";
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        String name = e.getClass().getSimpleName();
        return m == null || m.isEmpty() ? name : (e instanceof java.net.ConnectException ? "connection refused: " + m : m);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Collects a body of at most {@code limit} bytes. */
    private static final class BoundedBytes implements HttpResponse.BodySubscriber<byte[]> {
        private final BufferedSink sink;

        BoundedBytes(int limit) {
            this.sink = new BufferedSink(limit, false, new Activity());
        }

        @Override
        public java.util.concurrent.CompletionStage<byte[]> getBody() {
            return sink.getBody().thenApply(o -> (byte[]) o);
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
            sink.onSubscribe(s);
        }

        @Override
        public void onNext(java.util.List<java.nio.ByteBuffer> items) {
            sink.onNext(items);
        }

        @Override
        public void onError(Throwable t) {
            sink.onError(t);
        }

        @Override
        public void onComplete() {
            sink.onComplete();
        }
    }
}
