package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.nydusify.oci.Json;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second Debian-based image converted with the first one as chunk dict pushes far fewer bytes. */
class DedupTest {
    @TempDir
    Path work;

    private JsonNode convert(String... args) throws IOException {
        Path json = work.resolve("out-" + System.nanoTime() + ".json");
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--output-json";
        all[args.length + 1] = json.toString();
        Cli c = Cli.run(all);
        assertEquals(0, c.code(), c.toString());
        return Json.MAPPER.readTree(json.toFile());
    }

    @Test
    void chunkDictFromARegistryImage() throws IOException {
        Path debian = TestImages.debianLayout();
        try (RegistryServer reg = RegistryServer.start(work.resolve("reg"))) {
            TestImages.push(debian, "debian", reg, "base/debian:v1");
            TestImages.push(debian, "debian2", reg, "app/debian2:v1");
            String h = reg.host();
            convert("convert", "--source", h + "/base/debian:v1", "--target", h + "/base/debian:nydus", "--plain-http");

            JsonNode plain = convert("convert", "--source", h + "/app/debian2:v1", "--target", h + "/plain/debian2:nydus",
                    "--plain-http");
            JsonNode dedup = convert("convert", "--source", h + "/app/debian2:v1", "--target", h + "/dedup/debian2:nydus",
                    "--plain-http", "--chunk-dict", "bootstrap:registry:" + h + "/base/debian:nydus");
            long without = plain.get("uploaded_bytes").asLong();
            long with = dedup.get("uploaded_bytes").asLong();
            JsonNode layer = dedup.get("images").get(0).get("layers").get(0);
            System.out.printf(Locale.ROOT, "dedup: debian2 pushed %d bytes without a chunk dict, %d bytes with debian as"
                    + " chunk dict (%.1f%%); %d chunks reused from the dictionary, %d new%n", without, with,
                    100.0 * with / without, layer.get("deduplicated_chunks").asLong(), layer.get("blob_chunks").asLong());
            assertTrue(with < without / 2, "with " + with + " without " + without);
            assertFalse(dedup.get("images").get(0).get("chunk_dict_blobs").isEmpty(), dedup.toString());
            // the dictionary's blob is mounted into the target repository, not uploaded
            assertTrue(dedup.get("mounted_blobs").asLong() >= 1, dedup.toString());

            JsonNode m = Json.MAPPER.readTree(TestImages.run("skopeo", "inspect", "--tls-verify=false", "--raw",
                    "docker://" + h + "/dedup/debian2:nydus"));
            assertEquals(3, m.get("layers").size(), "own blob, dictionary blob, bootstrap layer: " + m);
            Cli check = Cli.run("check", "--source", h + "/app/debian2:v1", "--target", h + "/dedup/debian2:nydus",
                    "--plain-http");
            assertEquals(0, check.code(), check.toString());
        }
    }
}
