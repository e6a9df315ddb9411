package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.RegistryServer;
import io.nydus.testdata.registry.TokenServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.SubmissionPublisher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push, mount and manifest round trips against real registries, checked with skopeo. */
class RegistryPushTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    /** A one-layer image pushed with the client: returns the manifest bytes. */
    private byte[] pushImage(RegistryClient c, String repo, String tag) throws Exception {
        Path root = work.resolve("rootfs-" + repo.replace('/', '_'));
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/hello.txt"), "hello from " + repo + "\n");
        Path layer = work.resolve("layer-" + repo.replace('/', '_') + ".tar.gz");
        run("tar", "-czf", layer.toString(), "-C", root.toString(), ".");
        String layerDigest = TestBlobs.digest(Files.readAllBytes(layer));
        String diffId = TestBlobs.digest(gunzip(Files.readAllBytes(layer)));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}").getBytes(StandardCharsets.UTF_8);
        String configDigest = TestBlobs.digest(config);
        c.pushBlob(repo, configDigest, BlobSource.ofBytes(config));
        c.pushBlob(repo, layerDigest, BlobSource.ofFile(layer));
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + RegistryClient.OCI_MANIFEST + "\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                + "\"digest\":\"" + layerDigest + "\",\"size\":" + Files.size(layer) + "}]}").getBytes(StandardCharsets.UTF_8);
        String digest = c.putManifest(repo, tag, RegistryClient.OCI_MANIFEST, manifest);
        assertEquals(TestBlobs.digest(manifest), digest);
        return manifest;
    }

    @Test
    void anImagePushedByTheClientIsReadBySkopeoAndViceVersa() throws Exception {
        try (RegistryServer r = RegistryServer.start(work);
                RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).scheme("http").build())) {
            byte[] manifest = pushImage(c, "push/app", "v1");
            JsonNode inspect = JSON.readTree(run("skopeo", "inspect", "--tls-verify=false",
                    "docker://" + r.host() + "/push/app:v1"));
            assertEquals(TestBlobs.digest(manifest), inspect.get("Digest").asText());
            assertEquals("linux", inspect.get("Os").asText());
            assertEquals(1, inspect.get("Layers").size());

            // skopeo copies it to another repository as Docker schema 2: the client reads that back
            run("skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "v2s2",
                    "docker://" + r.host() + "/push/app:v1", "docker://" + r.host() + "/push/copy:v2");
            Manifest m = c.getManifest("push/copy", "v2");
            assertEquals(RegistryClient.DOCKER_MANIFEST, m.mediaType());
            JsonNode doc = JSON.readTree(m.bytes());
            String layerDigest = doc.get("layers").get(0).get("digest").asText();
            try (InputStream in = c.openBlob("push/copy", layerDigest)) {
                assertTrue(new String(gunzip(in.readAllBytes()), StandardCharsets.ISO_8859_1).contains("hello from push/app"));
            }
            assertEquals(m.digest(), c.manifestDigest("push/copy", "v2").orElseThrow());
            Manifest byDigest = c.getManifest("push/copy", m.digest());
            assertArrayEquals(m.bytes(), byDigest.bytes());

            Manifest oci = c.getManifest("push/app", "v1");
            assertEquals(RegistryClient.OCI_MANIFEST, oci.mediaType());
            assertArrayEquals(manifest, oci.bytes());
        }
    }

    @Test
    void anIndexIsStoredByTagAndReadBack() throws Exception {
        try (RegistryServer r = RegistryServer.start(work);
                RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).scheme("http").build())) {
            byte[] manifest = pushImage(c, "multi/app", "amd64");
            byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + RegistryClient.OCI_INDEX + "\",\"manifests\":[{"
                    + "\"mediaType\":\"" + RegistryClient.OCI_MANIFEST + "\",\"digest\":\"" + TestBlobs.digest(manifest)
                    + "\",\"size\":" + manifest.length + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}")
                    .getBytes(StandardCharsets.UTF_8);
            String d = c.putManifest("multi/app", "latest", RegistryClient.OCI_INDEX, index);
            Manifest got = c.getManifest("multi/app", "latest");
            assertEquals(RegistryClient.OCI_INDEX, got.mediaType());
            assertEquals(d, got.digest());
            // stored by digest too
            assertEquals(d, c.putManifest("multi/app", d, RegistryClient.OCI_INDEX, index));
            JsonNode raw = JSON.readTree(run("skopeo", "inspect", "--raw", "--tls-verify=false",
                    "docker://" + r.host() + "/multi/app:latest"));
            assertEquals(1, raw.get("manifests").size());

            assertTrue(c.manifestDigest("multi/app", "nope").isEmpty());
            RegistryException e = assertThrows(RegistryException.class, () -> c.getManifest("multi/app", "nope"));
            assertEquals(404, e.status());
            assertEquals("MANIFEST_UNKNOWN", e.errorCode());
            assertTrue(e.getMessage().contains("multi/app") && e.getMessage().contains("nope"), e.getMessage());
            byte[] dangling = ("{\"schemaVersion\":2,\"mediaType\":\"" + RegistryClient.OCI_MANIFEST + "\",\"config\":{"
                    + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                    + TestBlobs.digest(new byte[] {9}) + "\",\"size\":1},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);
            RegistryException bad = assertThrows(RegistryException.class,
                    () -> c.putManifest("multi/app", "broken", RegistryClient.OCI_MANIFEST, dangling));
            assertEquals(400, bad.status());
            assertEquals("MANIFEST_BLOB_UNKNOWN", bad.errorCode(), bad.getMessage());
        }
    }

    @Test
    void blobsAreMountedAcrossRepositoriesWithTokens() throws Exception {
        try (TokenServer ts = TokenServer.start(work.resolve("token")).addUser("m", "pw");
                RegistryServer r = RegistryServer.withTokenAuth(work, ts);
                RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).scheme("http")
                        .credentials(RegistryCredentials.basic("m", "pw")).build())) {
            byte[] blob = TestBlobs.random(300_000, 51);
            String d = TestBlobs.digest(blob);
            c.pushBlob("src/repo", d, BlobSource.ofBytes(blob));
            assertTrue(c.mountBlob("dst/repo", d, "src/repo"));
            assertTrue(c.blobExists("dst/repo", d));
            assertTrue(ts.scopesSeen().contains("repository:src/repo:pull"), ts.scopesSeen().toString());
            String unknown = TestBlobs.digest(new byte[] {7});
            assertFalse(c.mountBlob("dst/repo", unknown, "src/repo"));
            // pushBlob with a mount source: mounted, so the source is never opened
            c.pushBlob("third/repo", d, BlobSource.of(blob.length, () -> {
                throw new IOException("must not be read");
            }), "src/repo");
            assertTrue(c.blobExists("third/repo", d));
            // not mountable: uploaded through the session the mount request opened
            byte[] other = TestBlobs.random(1000, 52);
            c.pushBlob("third/repo", TestBlobs.digest(other), BlobSource.ofBytes(other), "src/repo");
            try (InputStream in = c.openBlob("third/repo", TestBlobs.digest(other))) {
                assertArrayEquals(other, in.readAllBytes());
            }
        }
    }

    @Test
    void relativeUploadLocationsAndFailedUploadsAreHandled() throws Exception {
        try (RegistryServer r = RegistryServer.withRelativeUrls(work);
                FaultProxy front = FaultProxy.start(r.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http")
                        .retryLimit(2).retryBackoff(java.time.Duration.ofMillis(5)).build())) {
            byte[] blob = TestBlobs.random(200_000, 61);
            String d = TestBlobs.digest(blob);
            // the first upload PUT fails: the upload starts over with a new session
            front.onlyFor(req -> req.method().equals("PUT")).planFaults(FaultProxy.Fault.STATUS_500);
            c.pushBlob("rel/app", d, BlobSource.ofBytes(blob));
            List<String> seen = new ArrayList<>();
            front.seen().forEach(s -> seen.add(s.method() + " " + s.target().replaceAll("\\?.*", "")));
            assertEquals(2, seen.stream().filter(s -> s.startsWith("POST")).count(), seen.toString());
            assertTrue(front.seen().get(0).target().startsWith("/v2/rel/app/blobs/uploads/"));
            try (InputStream in = c.openBlob("rel/app", d)) {
                assertArrayEquals(blob, in.readAllBytes());
            }
            // a wrong digest is refused by the registry with its code
            RegistryException e = assertThrows(RegistryException.class,
                    () -> c.pushBlob("rel/app", TestBlobs.digest(new byte[] {1}), BlobSource.ofBytes(new byte[] {2})));
            assertEquals(400, e.status());
            assertEquals("DIGEST_INVALID", e.errorCode());
        }
    }

    @Test
    void aBlobStreamedWhileItIsProducedIsCommittedUnderItsDigest() throws Exception {
        try (RegistryServer r = RegistryServer.withRelativeUrls(work);
                FaultProxy front = FaultProxy.start(r.host());
                RegistryClient c = new RegistryClient(RegistrySettings.builder(front.host()).scheme("http").build())) {
            byte[] blob = TestBlobs.random(3_000_000, 62);
            String d = TestBlobs.digest(blob);
            // produced in uneven pieces, the last ones after the upload has started
            SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
            StreamedUpload u = c.startStreamedUpload("stream/app", body);
            for (int off = 0, n = 1; off < blob.length; off += n, n = Math.min(blob.length - off, n * 3 + 7)) {
                while (body.getNumberOfSubscribers() == 0) {
                    Thread.sleep(1);
                }
                body.submit(ByteBuffer.wrap(blob, off, Math.min(n, blob.length - off)));
            }
            body.close();
            u.finish(d);
            try (InputStream in = c.openBlob("stream/app", d)) {
                assertArrayEquals(blob, in.readAllBytes());
            }
            List<String> seen = new ArrayList<>();
            front.seen().forEach(s -> seen.add(s.method() + " " + s.target().replaceAll("\\?.*", "")));
            assertEquals(List.of("POST", "PATCH", "PUT"), seen.subList(0, 3).stream().map(x -> x.split(" ")[0]).toList(),
                    seen.toString());
            assertEquals("chunked", front.seen().get(1).header("Transfer-Encoding"), "the length was not known");

            // bytes that are not the named digest never become that blob
            SubmissionPublisher<ByteBuffer> other = new SubmissionPublisher<>();
            StreamedUpload bad = c.startStreamedUpload("stream/app", other);
            while (other.getNumberOfSubscribers() == 0) {
                Thread.sleep(1);
            }
            other.submit(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            other.close();
            String claimed = TestBlobs.digest(new byte[] {9});
            RegistryException e = assertThrows(RegistryException.class, () -> bad.finish(claimed));
            assertEquals("DIGEST_INVALID", e.errorCode());
            assertFalse(c.blobExists("stream/app", claimed));
        }
    }

    static byte[] gunzip(byte[] gz) throws IOException {
        try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
