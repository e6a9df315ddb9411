package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.Json;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.testdata.registry.FaultProxy;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gets one line naming what is wrong, a non-zero exit, and the target tag is never created: missing
 * images and tags, layers whose bytes do not match their digest, unsupported media types, a registry failing in
 * the middle of a push.
 */
class BadInputTest {
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
    }

    @AfterAll
    static void stop() {
        reg.close();
    }

    /** Runs a convert that must fail: exit 1 and exactly one error line, which is returned. */
    private static String fails(String... args) {
        Cli c = Cli.run(args);
        assertEquals(1, c.code(), c.toString());
        String lines = c.errorLines();
        assertEquals(1, lines.lines().count(), c.toString());
        System.out.println("error line: " + lines.strip());
        return lines.strip();
    }

    private static void assertNoImage(String ref) throws IOException {
        TestImages.Result r = TestImages.exec("skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + ref);
        assertNotEquals(0, r.code(), ref + " exists: " + r.output());
    }

    private static void assertNoTag(Path layout, String tag) throws IOException {
        if (Files.exists(layout.resolve("index.json"))) {
            assertFalse(Files.readString(layout.resolve("index.json")).contains("\"" + tag + "\""),
                    tag + " was created in " + layout);
        }
    }

    @Test
    void missingTagAndImage() throws IOException {
        String target = reg.host() + "/out/missing:v1";
        String line = fails("convert", "--source", reg.host() + "/src/busybox:nope", "--target", target, "--plain-http");
        assertTrue(line.contains(reg.host()) && line.contains("nope") && line.contains("404"), line);
        line = fails("convert", "--source", reg.host() + "/nothere/app:v1", "--target", target, "--plain-http");
        assertTrue(line.contains("nothere/app") && line.contains("404"), line);
        assertNoImage(target);

        Path out = work.resolve("out");
        line = fails("convert", "--source", TestImages.ref(images, "nope"), "--target", "oci:" + out + ":x");
        assertTrue(line.contains("no image tagged 'nope'"), line);
        line = fails("convert", "--source", "oci:" + work.resolve("no-such-dir") + ":x", "--target", "oci:" + out + ":x");
        assertTrue(line.contains("not an OCI image layout"), line);
        assertNoTag(out, "x");
    }

    @Test
    void layerNotMatchingItsDigestInARegistry() throws IOException {
        try (RegistryServer own = RegistryServer.start(work.resolve("reg"))) {
            TestImages.push(images, "busybox", own, "app:v1");
            ImageManifest m = ImageManifest.parse(TestImages.run("skopeo", "inspect", "--tls-verify=false", "--raw",
                    "docker://" + own.host() + "/app:v1").getBytes(), "manifest");
            String layer = m.layers.get(0).digest;
            // the registry serves its stored bytes without checking them again
            Path data = own.storage().resolve("docker/registry/v2/blobs/sha256").resolve(Digests.hex(layer).substring(0, 2))
                    .resolve(Digests.hex(layer)).resolve("data");
            flipByte(data, Files.size(data) / 2);
            String target = own.host() + "/app:nydus";
            String line = fails("convert", "--source", own.host() + "/app:v1", "--target", target, "--plain-http");
            assertTrue(line.contains(layer) && line.contains("digest"), line);
            assertNoImage(target);
        }
    }

    @Test
    void layerNotMatchingItsDigestInALayout() throws IOException {
        for (String tag : new String[] {"busybox", "busybox-plain"}) {
            Path layout = work.resolve("layout-" + tag);
            TestImages.run("skopeo", "copy", "-q", TestImages.ref(images, tag), "oci:" + layout + ":app");
            ImageManifest m = ImageManifest.parse(OciLayout.open(layout).manifest("app").bytes(), "manifest");
            String layer = m.layers.get(0).digest;
            Path blob = layout.resolve("blobs/sha256").resolve(Digests.hex(layer));
            // an uncompressed layer: the flipped byte lands in file data, the tar still parses
            flipByte(blob, Files.size(blob) - 1536 - 100);
            String line = fails("convert", "--source", "oci:" + layout + ":app", "--target", "oci:" + layout + ":nydus");
            assertTrue(line.contains(layer) && line.contains("digest"), line);
            assertNoTag(layout, "nydus");
        }
    }

    @Test
    void unsupportedMediaType() throws IOException {
        Path layout = work.resolve("layout");
        TestImages.run("skopeo", "copy", "-q", TestImages.ref(images, "busybox"), "oci:" + layout + ":app");
        OciLayout l = OciLayout.open(layout);
        ObjectNode m = (ObjectNode) Json.MAPPER.readTree(l.manifest("app").bytes());
        ((ObjectNode) m.get("layers").get(1)).put("mediaType", "application/vnd.oci.image.layer.v1.tar+encrypted");
        byte[] bytes = Json.MAPPER.writeValueAsBytes(m);
        io.nydus.nydusify.oci.Descriptor d = new io.nydus.nydusify.oci.Descriptor(MediaTypes.OCI_MANIFEST,
                Digests.sha256(bytes), bytes.length);
        l.tag("encrypted", d, bytes);
        String line = fails("convert", "--source", "oci:" + layout + ":encrypted", "--target", "oci:" + layout + ":nydus");
        assertTrue(line.contains("unsupported media type application/vnd.oci.image.layer.v1.tar+encrypted"), line);
        assertTrue(line.contains(m.get("layers").get(1).get("digest").asText()), line);
        assertNoTag(layout, "nydus");

        // the same image in a registry
        try (RegistryClient c = new RegistryClient(RegistryOptions.anonymous(true).settings(reg.host()))) {
            TestImages.push(layout, "app", reg, "weird/app:v1");
            c.putManifest("weird/app", "encrypted", MediaTypes.OCI_MANIFEST, bytes);
        }
        String target = reg.host() + "/weird/app:nydus";
        line = fails("convert", "--source", reg.host() + "/weird/app:encrypted", "--target", target, "--plain-http");
        assertTrue(line.contains("unsupported media type"), line);
        assertNoImage(target);

        // already a nydus image
        Cli ok = Cli.run("convert", "--source", "oci:" + layout + ":app", "--target", "oci:" + layout + ":nydus");
        assertEquals(0, ok.code(), ok.toString());
        line = fails("convert", "--source", "oci:" + layout + ":nydus", "--target", "oci:" + layout + ":again");
        assertTrue(line.contains("already a nydus image"), line);
    }

    @Test
    void registryFailingInTheMiddleOfAPush() throws IOException {
        try (FaultProxy proxy = FaultProxy.start(reg.host())) {
            proxy.onlyFor(r -> r.method().equals("PUT") && r.target().contains("/blobs/uploads/"));
            // every upload fails: after the retries, one line naming the registry and the status
            proxy.randomFaults(1.0, 7, FaultProxy.Fault.STATUS_500);
            String target = proxy.host() + "/flaky/app:v1";
            String line = fails("convert", "--source", reg.host() + "/src/busybox:v1", "--target", target,
                    "--plain-http", "--push-retry-count", "2", "--push-retry-delay", "100ms");
            assertTrue(line.contains(proxy.host()) && line.contains("500") && line.contains("3 attempts"), line);
            assertNoImage(reg.host() + "/flaky/app:v1");

            // one failure on the way: a retry gets through
            proxy.clearFaults().planFaults(FaultProxy.Fault.RESET, FaultProxy.Fault.STATUS_503);
            Cli c = Cli.run("convert", "--source", reg.host() + "/src/busybox:v1", "--target", target, "--plain-http",
                    "--push-retry-count", "2", "--push-retry-delay", "100ms");
            assertEquals(0, c.code(), c.toString());
            assertTrue(proxy.faultsInjected() >= 2);
            Cli check = Cli.run("check", "--source", reg.host() + "/src/busybox:v1", "--target",
                    reg.host() + "/flaky/app:v1", "--plain-http");
            assertEquals(0, check.code(), check.toString());
        }
    }

    @Test
    void badFlags() {
        Cli c = Cli.run("convert", "--source", "oci:/x:y", "--target", "oci:/x:z", "--chunk-size", "1000");
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.errorLines().contains("--chunk-size"), c.toString());
        c = Cli.run("convert", "--source", "oci:/x:y", "--target", "oci:/x:z", "--fs-version", "7");
        assertTrue(c.errorLines().contains("--fs-version"), c.toString());
        c = Cli.run("convert", "--source", "Bad Ref", "--target", "oci:/x:z");
        assertEquals(1, c.code(), c.toString());
        c = Cli.run("convert", "--target", "oci:/x:z");
        assertEquals(2, c.code(), c.toString());
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0xFF);
        }
    }
}
