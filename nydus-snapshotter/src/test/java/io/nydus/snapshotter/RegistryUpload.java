package io.nydus.snapshotter;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/** Pushes blobs and manifests to a registry over the distribution API (monolithic uploads), and reads them back. */
final class RegistryUpload {
    private final String base;
    private final String authorization;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** @param authorization an Authorization header value, or null */
    RegistryUpload(String host, String authorization) {
        this.base = "http://" + host;
        this.authorization = authorization;
    }

    static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b;
    }

    String putBlob(String repo, byte[] data) throws IOException, InterruptedException {
        String digest = sha256(data);
        HttpResponse<String> start = http.send(request(base + "/v2/" + repo + "/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (start.statusCode() != 202) {
            throw new IOException("start upload to " + repo + ": HTTP " + start.statusCode() + " " + start.body());
        }
        String location = start.headers().firstValue("Location").orElseThrow();
        URI put = URI.create(base).resolve(location);
        String url = put + (put.getQuery() == null ? "?" : "&") + "digest=" + digest;
        HttpResponse<String> done = http.send(request(url).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString());
        if (done.statusCode() != 201) {
            throw new IOException("upload " + digest + ": HTTP " + done.statusCode() + " " + done.body());
        }
        return digest;
    }

    String putManifest(String repo, String tag, String mediaType, byte[] data) throws IOException,
            InterruptedException {
        HttpResponse<String> r = http.send(request(base + "/v2/" + repo + "/manifests/" + tag)
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IOException("put manifest " + repo + ":" + tag + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return sha256(data);
    }

    byte[] get(String repo, String kind, String reference, String accept) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(request(base + "/v2/" + repo + "/" + kind + "/" + reference)
                .header("Accept", accept).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + repo + "/" + kind + "/" + reference + ": HTTP " + r.statusCode());
        }
        return r.body();
    }
}
