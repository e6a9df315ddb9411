package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.nydusify.oci.Json;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registry to registry: OCI and Docker schema 2 sources, multi-platform indexes, repeated pushes, copy. */
class ConvertRegistryTest {
    @TempDir
    static Path shared;
    static RegistryServer reg;
    static Path images;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws IOException {
        images = TestImages.layout();
        reg = RegistryServer.start(shared.resolve("reg"));
        TestImages.push(images, "busybox", reg, "src/busybox:v1");
        TestImages.push(images, "busybox", reg, "src/busybox-docker:v1", "--format", "v2s2");
        TestImages.push(images, "multi", reg, "src/multi:v1", "--all");
    }

    @AfterAll
    static void stop() {
        if (reg != null) {
            reg.close();
        }
    }

    private String at(String repoTag) {
        return reg.host() + "/" + repoTag;
    }

    private static Cli ok(String... args) {
        Cli c = Cli.run(args);
        assertEquals(0, c.code(), c.toString());
        return c;
    }

    private static JsonNode inspect(String ref, boolean raw) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "inspect", "--tls-verify=false"));
        if (raw) {
            cmd.add("--raw");
        }
        cmd.add("docker://" + ref);
        return Json.MAPPER.readTree(TestImages.run(cmd.toArray(String[]::new)));
    }

    @Test
    void layerBlobsStreamToTheRegistryWhileTheyAreBuiltAndArePushedWholeWhenThatFails() throws IOException {
        String src = at("src/busybox:v1");
        try (FaultProxy proxy = FaultProxy.start(reg.host())) {
            // 4 layers, each blob sent with one PATCH during its build and committed by a PUT without a body
            ok("convert", "--source", src, "--target", proxy.host() + "/streamed/busybox:v1", "--plain-http");
            List<FaultProxy.Request> patches = proxy.seen().stream().filter(r -> r.method().equals("PATCH")).toList();
            assertEquals(4, patches.size(), proxy.seen().toString());
            assertTrue(patches.stream().allMatch(r -> "chunked".equals(r.header("Transfer-Encoding"))), patches.toString());
            assertEquals(2, wholeUploads(proxy, 0), proxy.seen().toString()); // the bootstrap layer and the config
            assertTrue(ok("check", "--source", src, "--target", at("streamed/busybox:v1"), "--plain-http").out()
                    .contains("check passed"));

            // every streamed upload fails: the blobs are pushed from their files, and the image is the same
            proxy.clearFaults().onlyFor(r -> r.method().equals("PATCH")).randomFaults(1.0, 3, FaultProxy.Fault.STATUS_500);
            int before = proxy.seen().size();
            ok("convert", "--source", src, "--target", proxy.host() + "/fallback/busybox:v1", "--plain-http");
            assertEquals(4, proxy.injected(FaultProxy.Fault.STATUS_500));
            assertEquals(4 + 2, wholeUploads(proxy, before), proxy.seen().subList(before, proxy.seen().size()).toString());
            assertTrue(ok("check", "--source", src, "--target", at("fallback/busybox:v1"), "--plain-http").out()
                    .contains("check passed"));

            // any upload request may fail or be cut off: retries and the fallback still store the same image
            proxy.clearFaults().onlyFor(r -> r.target().contains("/blobs/uploads/"))
                    .randomFaults(0.3, 11, FaultProxy.Fault.RESET, FaultProxy.Fault.STATUS_500, FaultProxy.Fault.STATUS_503);
            ok("convert", "--source", src, "--target", proxy.host() + "/flaky/busybox:v1", "--plain-http",
                    "--push-retry-count", "8", "--push-retry-delay", "10ms");
            assertTrue(proxy.faultsInjected() > 4 + 3, "faults injected: " + proxy.faultsInjected());
            assertTrue(ok("check", "--source", src, "--target", at("flaky/busybox:v1"), "--plain-http").out()
                    .contains("check passed"));
        }
    }

    /** Uploads sent in one PUT with their bytes, from the {@code from}th request the proxy saw on. */
    private static long wholeUploads(FaultProxy proxy, int from) {
        List<FaultProxy.Request> seen = proxy.seen();
        return seen.subList(from, seen.size()).stream().filter(r -> r.method().equals("PUT")
                && r.target().contains("/blobs/uploads/") && !"0".equals(r.header("Content-Length"))).count();
    }

    @Test
    void convertsChecksAndUnpacksLikeUmoci() throws IOException {
        String src = at("src/busybox:v1");
        String dst = at("fresh/busybox:v1-nydus");
        Path json = work.resolve("out.json");
        ok("convert", "--source", src, "--target", dst, "--plain-http", "--output-json", json.toString());
        JsonNode out = Json.MAPPER.readTree(json.toFile());
        assertTrue(out.get("uploaded_bytes").asLong() > 8_000_000, out.toString()); // two 5 MB files, one random

        Cli check = ok("check", "--source", src, "--target", dst, "--plain-http");
        assertTrue(check.out().contains("check passed"), check.toString());

        JsonNode manifest = inspect(dst, true);
        assertEquals(MediaTypes.OCI_MANIFEST, manifest.get("mediaType").asText());
        JsonNode layers = manifest.get("layers");
        assertEquals(5, layers.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(MediaTypes.NYDUS_BLOB, layers.get(i).get("mediaType").asText());
            assertEquals("true", layers.get(i).get("annotations").get(MediaTypes.ANNOTATION_NYDUS_BLOB).asText());
        }
        JsonNode boot = layers.get(4);
        assertEquals("true", boot.get("annotations").get(MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP).asText());
        assertEquals("6", boot.get("annotations").get(MediaTypes.ANNOTATION_NYDUS_FS_VERSION).asText());
        JsonNode config = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "--tls-verify=false", "--config",
                "docker://" + dst));
        JsonNode diffIds = config.get("rootfs").get("diff_ids");
        assertEquals(5, diffIds.size());
        assertEquals(layers.get(0).get("digest").asText(), diffIds.get(0).asText());
        JsonNode history = config.get("history");
        assertEquals("Nydus Converter", history.get(history.size() - 1).get("created_by").asText());
        assertEquals("Nydus Bootstrap Layer", history.get(history.size() - 1).get("comment").asText());
        assertEquals("amd64", inspect(dst, false).get("Architecture").asText());

        // what skopeo pulls back unpacks, through the library, to what umoci unpacks from the source
        Path pulled = work.resolve("pulled");
        TestImages.run("skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + dst, "oci:" + pulled + ":n");
        TestImages.assertSameTree(TestImages.umociUnpack(TestImages.ref(images, "busybox"), work),
                TestImages.nydusUnpack(pulled, "n", work));

        // converting again stores no blob: the target has them all (the layer blobs, streamed while they were built,
        // are dropped, and the summary says so)
        Cli again = ok("convert", "--source", src, "--target", dst, "--plain-http", "--output-json", json.toString());
        out = Json.MAPPER.readTree(json.toFile());
        assertEquals(0, out.get("uploaded_bytes").asLong(), out.toString());
        assertTrue(out.get("existing_blobs").asLong() >= 6, out.toString());
        assertTrue(again.toString().contains("streamed while building and dropped: the target had them"), again.toString());
    }

    @Test
    void dockerSchema2SourceKeepsDockerMediaTypesUnlessOciIsAsked() throws IOException {
        String src = at("src/busybox-docker:v1");
        assertEquals(MediaTypes.DOCKER_MANIFEST, inspect(src, true).get("mediaType").asText());
        String dst = at("nydus/busybox-docker:v1");
        ok("convert", "--source", src, "--target", dst, "--plain-http");
        JsonNode m = inspect(dst, true);
        assertEquals(MediaTypes.DOCKER_MANIFEST, m.get("mediaType").asText());
        assertEquals(MediaTypes.DOCKER_CONFIG, m.get("config").get("mediaType").asText());
        JsonNode layers = m.get("layers");
        assertEquals(MediaTypes.NYDUS_BLOB, layers.get(0).get("mediaType").asText());
        assertEquals(MediaTypes.DOCKER_LAYER_GZIP, layers.get(layers.size() - 1).get("mediaType").asText());
        ok("check", "--source", src, "--target", dst, "--plain-http");
        assertSameTreeAsUmoci(dst, "busybox", "linux/amd64");

        String oci = at("nydus/busybox-docker:oci");
        ok("convert", "--source", src, "--target", oci, "--plain-http", "--oci");
        m = inspect(oci, true);
        assertEquals(MediaTypes.OCI_MANIFEST, m.get("mediaType").asText());
        assertEquals(MediaTypes.OCI_LAYER_GZIP, m.get("layers").get(m.get("layers").size() - 1).get("mediaType").asText());
        ok("check", "--source", src, "--target", oci, "--plain-http");
    }

    @Test
    void multiPlatformIndexes() throws IOException {
        String src = at("src/multi:v1");
        // every platform: an index of nydus manifests
        String all = at("nydus/multi:all");
        ok("convert", "--source", src, "--target", all, "--plain-http", "--all-platforms");
        JsonNode idx = inspect(all, true);
        assertEquals(MediaTypes.OCI_INDEX, idx.get("mediaType").asText());
        assertEquals(2, idx.get("manifests").size());
        ok("check", "--source", src, "--target", all, "--plain-http", "--all-platforms");
        assertSameTreeAsUmoci(all, "busybox", "linux/amd64");
        assertSameTreeAsUmoci(all, "busybox-arm64", "linux/arm64");

        // one platform: a plain manifest
        String arm = at("nydus/multi:arm64");
        ok("convert", "--source", src, "--target", arm, "--plain-http", "--platform", "linux/arm64");
        JsonNode m = inspect(arm, true);
        assertEquals(MediaTypes.OCI_MANIFEST, m.get("mediaType").asText());
        ok("check", "--source", src, "--target", arm, "--plain-http", "--platform", "linux/arm64");

        // merged: the source manifests and the nydus ones side by side, the source blobs mounted across repositories
        String merged = at("nydus/multi:merged");
        Path json = work.resolve("merged.json");
        ok("convert", "--source", src, "--target", merged, "--plain-http", "--all-platforms", "--merge-platform",
                "--output-json", json.toString());
        idx = inspect(merged, true);
        assertEquals(4, idx.get("manifests").size());
        int nydus = 0;
        for (JsonNode d : idx.get("manifests")) {
            if (MediaTypes.NYDUS_ARTIFACT.equals(d.path("artifactType").asText())) {
                nydus++;
                JsonNode nm = inspect(at("nydus/multi@" + d.get("digest").asText()), true);
                assertEquals(MediaTypes.NYDUS_CONFIG, nm.get("config").get("mediaType").asText());
            }
        }
        assertEquals(2, nydus);
        assertTrue(Json.MAPPER.readTree(json.toFile()).get("mounted_blobs").asLong() > 0);
        ok("check", "--source", src, "--target", merged, "--plain-http", "--all-platforms");
        // plain tools pick the original image of the index
        assertEquals("amd64", inspect(merged, false).get("Architecture").asText());
    }

    @Test
    void insecureFlagsFallBackToPlainHttp() throws IOException {
        String src = at("src/busybox:v1");
        String dst = at("insecure/busybox:v1");
        ok("convert", "--source", src, "--target", dst, "--source-insecure", "--target-insecure");
        ok("check", "--source", src, "--target", dst, "--source-insecure", "--target-insecure");
    }

    @Test
    void copiesBetweenRegistriesAndLayouts() throws IOException {
        String src = at("src/busybox:v1");
        String nydus = at("copy/busybox:nydus");
        ok("convert", "--source", src, "--target", nydus, "--plain-http");
        Path layout = work.resolve("copy");
        ok("copy", "--source", nydus, "--target", "oci:" + layout + ":n", "--plain-http");
        ok("check", "--source", TestImages.ref(images, "busybox"), "--target", "oci:" + layout + ":n");
        String back = at("copied/busybox:n");
        ok("copy", "--source", "oci:" + layout + ":n", "--target", back, "--plain-http");
        ok("check", "--source", src, "--target", back, "--plain-http");
        assertEquals(inspect(nydus, false).get("Digest").asText(), inspect(back, false).get("Digest").asText());
        // an index with everything in it
        String merged = at("copy/multi:merged");
        ok("convert", "--source", at("src/multi:v1"), "--target", merged, "--plain-http", "--all-platforms",
                "--merge-platform");
        ok("copy", "--source", merged, "--target", at("copied/multi:v1"), "--plain-http");
        assertEquals(inspect(merged, true), inspect(at("copied/multi:v1"), true));
        ok("check", "--source", at("src/multi:v1"), "--target", at("copied/multi:v1"), "--plain-http", "--all-platforms");
        assertTrue(Files.isDirectory(layout));
    }

    /** The nydus image (one platform of it), copied to a layout and unpacked, equals umoci's unpack of a source tag. */
    private void assertSameTreeAsUmoci(String nydus, String sourceTag, String platform) throws IOException {
        Path layout = Files.createTempDirectory(work, "copy-");
        ok("copy", "--source", nydus, "--target", "oci:" + layout + ":n", "--plain-http", "--platform", platform);
        TestImages.assertSameTree(TestImages.umociUnpack(TestImages.ref(images, sourceTag), work),
                TestImages.nydusUnpack(layout, "n", work));
    }
}
