package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.nydusify.oci.Json;
import io.nydus.nydusify.oci.MediaTypes;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Offline conversions between OCI layouts: convert, check, skopeo reads the result, same tree as umoci unpack. */
class ConvertLayoutTest {
    static Path images;

    @TempDir
    Path work;

    @BeforeAll
    static void build() throws IOException {
        images = TestImages.layout();
    }

    @ParameterizedTest
    @ValueSource(strings = {"busybox", "busybox-insert", "busybox-zstd", "busybox-plain"})
    void convertsBetweenLayouts(String tag) throws IOException {
        Path target = work.resolve("target");
        String src = TestImages.ref(images, tag);
        String dst = "oci:" + target + ":" + tag + "-nydus";
        Cli c = Cli.run("convert", "--source", src, "--target", dst);
        assertEquals(0, c.code(), c.toString());

        Cli check = Cli.run("check", "--source", src, "--target", dst);
        assertEquals(0, check.code(), check.toString());
        assertTrue(check.out().contains("check passed"), check.toString());

        JsonNode inspect = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", dst));
        int sourceLayers = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", src)).get("Layers").size();
        assertEquals(sourceLayers + 1, inspect.get("Layers").size(), "nydus blobs plus the bootstrap layer");
        assertEquals("amd64", inspect.get("Architecture").asText());

        // umoci 0.4.7 cannot unpack zstd layers; the zstd image holds the same tree as busybox
        String unpackable = tag.equals("busybox-zstd") ? TestImages.ref(images, "busybox") : src;
        TestImages.assertSameTree(TestImages.umociUnpack(unpackable, work),
                TestImages.nydusUnpack(target, tag + "-nydus", work));
    }

    private static Cli ok(String... args) {
        Cli c = Cli.run(args);
        assertEquals(0, c.code(), c.toString());
        return c;
    }

    @Test
    void rafsV5() throws IOException {
        Path target = work.resolve("v5");
        String src = TestImages.ref(images, "busybox");
        String dst = "oci:" + target + ":v5";
        ok("convert", "--source", src, "--target", dst, "--fs-version", "5", "--compressor", "lz4_block",
                "--chunk-size", "0x40000");
        ok("check", "--source", src, "--target", dst);
        JsonNode m = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "--raw", dst));
        JsonNode boot = m.get("layers").get(m.get("layers").size() - 1);
        assertEquals("5", boot.get("annotations").get(MediaTypes.ANNOTATION_NYDUS_FS_VERSION).asText());
        TestImages.assertSameTree(TestImages.umociUnpack(src, work), TestImages.nydusUnpack(target, "v5", work));
    }

    @Test
    void multiPlatformIndexInALayoutAndArchives() throws IOException {
        Path target = work.resolve("multi");
        String src = TestImages.ref(images, "multi");
        ok("convert", "--source", src, "--target", "oci:" + target + ":merged", "--all-platforms", "--merge-platform");
        ok("check", "--source", src, "--target", "oci:" + target + ":merged", "--all-platforms");
        JsonNode idx = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "--raw", "oci:" + target + ":merged"));
        assertEquals(MediaTypes.OCI_INDEX, idx.get("mediaType").asText());
        assertEquals(4, idx.get("manifests").size());

        // oci-archive in and out
        Path in = work.resolve("in.tar");
        TestImages.run("skopeo", "copy", "-q", "--all", src, "oci-archive:" + in + ":multi");
        Path out = work.resolve("out.tar");
        ok("convert", "--source", "oci-archive:" + in + ":multi", "--target", "oci-archive:" + out + ":nydus",
                "--platform", "linux/arm64");
        ok("check", "--source", "oci-archive:" + in + ":multi", "--target", "oci-archive:" + out + ":nydus",
                "--platform", "linux/arm64");
        JsonNode inspect = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "oci-archive:" + out + ":nydus"));
        assertEquals("arm64", inspect.get("Architecture").asText());
    }

    @Test
    void debianWithinOneLayout() throws IOException {
        // the README's command: a layout's image converted next to itself, no registry anywhere
        Path layout = work.resolve("debian");
        TestImages.run("skopeo", "copy", "-q", TestImages.ref(TestImages.debianLayout(), "debian"),
                "oci:" + layout + ":debian");
        String src = "oci:" + layout + ":debian";
        String dst = "oci:" + layout + ":debian-nydus";
        ok("convert", "--source", src, "--target", dst);
        ok("check", "--source", src, "--target", dst);
        TestImages.assertSameTree(TestImages.umociUnpack(src, work), TestImages.nydusUnpack(layout, "debian-nydus", work));
    }

    @Test
    void chunkDictsFromALayoutImageAndALocalBootstrap() throws IOException {
        Path layout = work.resolve("dict");
        String base = "oci:" + layout + ":base";
        ok("convert", "--source", TestImages.ref(images, "busybox"), "--target", base);
        // an image naming the dictionary by reference: its blobs are copied to the (other) target
        Path other = work.resolve("other");
        Path json = work.resolve("out.json");
        ok("convert", "--source", TestImages.ref(images, "busybox-insert"), "--target", "oci:" + other + ":app",
                "--chunk-dict", "bootstrap:registry:" + base, "--output-json", json.toString());
        JsonNode out = Json.MAPPER.readTree(json.toFile());
        long reused = 0;
        for (JsonNode l : out.get("images").get(0).get("layers")) {
            reused += l.get("deduplicated_chunks").asLong();
        }
        assertTrue(reused > 0, out.toString());
        ok("check", "--source", TestImages.ref(images, "busybox-insert"), "--target", "oci:" + other + ":app");

        // a local bootstrap file: its blobs must already be in the target
        Path boot = work.resolve("dict.boot");
        OciLayout l = OciLayout.open(layout);
        io.nydus.nydusify.oci.ImageManifest m = io.nydus.nydusify.oci.ImageManifest.parse(l.manifest("base").bytes(), "m");
        try (java.io.InputStream inStream = l.openBlob(m.bootstrapLayer())) {
            BootstrapLayer.read(inStream, boot, "bootstrap layer");
        }
        ok("convert", "--source", TestImages.ref(images, "busybox-insert"), "--target", "oci:" + layout + ":local",
                "--chunk-dict", "bootstrap:local:" + boot);
        ok("check", "--source", TestImages.ref(images, "busybox-insert"), "--target", "oci:" + layout + ":local");
        Cli missing = Cli.run("convert", "--source", TestImages.ref(images, "busybox-insert"), "--target",
                "oci:" + work.resolve("empty") + ":x", "--chunk-dict", "bootstrap:local:" + boot);
        assertEquals(1, missing.code(), missing.toString());
        assertTrue(missing.errorLines().contains("chunk dict"), missing.toString());
    }

    @Test
    void prefetchPatternsFromStdin() throws IOException {
        Path target = work.resolve("prefetch");
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("/data/big.bin\n/etc\n".getBytes()));
            ok("convert", "--source", TestImages.ref(images, "busybox"), "--target", "oci:" + target + ":p",
                    "--prefetch-patterns");
        } finally {
            System.setIn(stdin);
        }
        OciLayout l = OciLayout.open(target);
        io.nydus.nydusify.oci.ImageManifest m = io.nydus.nydusify.oci.ImageManifest.parse(l.manifest("p").bytes(), "m");
        Path boot = work.resolve("p.boot");
        try (java.io.InputStream inStream = l.openBlob(m.bootstrapLayer())) {
            BootstrapLayer.read(inStream, boot, "bootstrap layer");
        }
        try (io.nydus.rafs.RafsSuper sb = io.nydus.rafs.RafsSuper.open(boot)) {
            java.util.Set<Long> prefetch = new java.util.HashSet<>();
            for (long ino : sb.prefetchInodes()) {
                prefetch.add(ino);
            }
            assertEquals(java.util.Set.of(sb.lookupPath("/data/big.bin"), sb.lookupPath("/etc")), prefetch);
        }
    }

    @Test
    void targetSuffixNamesTheTargetAfterTheSource() throws IOException {
        Path layout = work.resolve("suffix");
        TestImages.run("skopeo", "copy", "-q", TestImages.ref(images, "busybox"), "oci:" + layout + ":v1");
        ok("convert", "--source", "oci:" + layout + ":v1", "--target-suffix", "-nydus");
        ok("check", "--source", "oci:" + layout + ":v1", "--target", "oci:" + layout + ":v1-nydus");
    }
}
