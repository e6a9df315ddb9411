package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.BlobSections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The other outputs of create: prefetch table, JSON summary, blobs carrying their own bootstrap. */
class CreateOutputsTest {
    @TempDir
    Path work;

    private Path sample() throws Exception {
        Path src = Files.createDirectories(work.resolve("src"));
        Files.createDirectories(src.resolve("etc"));
        Files.createDirectories(src.resolve("usr/bin"));
        Files.writeString(src.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
        Files.writeString(src.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.writeString(src.resolve("usr/bin/hello"), "#!/bin/sh\necho hello\n");
        return src;
    }

    @Test
    void prefetchTableListsPatternsWithoutCoveredOrMissingPaths() throws Exception {
        for (RafsVersion v : RafsVersion.values()) {
            CreateOptions o = new CreateOptions();
            o.source = sample();
            o.fsVersion = v;
            o.bootstrap = work.resolve("boot-" + v);
            o.blob = work.resolve("blob-" + v);
            o.prefetchPatterns = List.of("/etc", "/etc/passwd", "/usr/bin/hello/", "/missing", "relative");
            CreateResult r = ImageCreator.create(o);
            assertEquals(2, r.warnings().size(), r.warnings().toString());
            try (RafsSuper sb = RafsSuper.open(o.bootstrap)) {
                List<Long> got = new ArrayList<>();
                for (long ino : sb.prefetchInodes()) {
                    got.add(ino);
                }
                assertEquals(List.of(sb.lookupPath("/etc"), sb.lookupPath("/usr/bin/hello")), got, v.toString());
            }
            Files.delete(work.resolve("src").resolve("etc/passwd"));
            Sh.delete(work.resolve("src"));
        }
    }

    @Test
    void outputJsonDescribesTheImage() throws Exception {
        Path json = work.resolve("out.json");
        Path boot = work.resolve("boot");
        Cli.run("create", "-B", boot.toString(), "-D", work.resolve("blobs").toString(), "-J", json.toString(),
                sample().toString()).ok();
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(boot.toString(), j.get("bootstrap").asText());
        assertEquals("6", j.get("fs_version").asText());
        assertEquals("zstd", j.get("compressor").asText());
        String id = j.get("blobs").get(0).asText();
        assertTrue(Files.exists(work.resolve("blobs").resolve(id)), "the blob is named by its id");
    }

    @Test
    void blobWithInlineMetaOnlyCarriesItsBootstrap() throws Exception {
        Path blob = work.resolve("layer.blob");
        Cli.run("create", "--blob-inline-meta", "--features", "blob-toc", "-b", blob.toString(), sample().toString()).ok();
        try (BlobReader r = BlobReader.ofFile(blob); RafsSuper sb = RafsSuper.openInlined(r, "cafe")) {
            BlobInfo b = sb.blobs().get(0);
            assertEquals("cafe", b.blobId(), "the placeholder id is replaced by the blob's own");
            assertTrue(b.hasFeature(BlobFeatures.INLINED_FS_META) && b.hasFeature(BlobFeatures.HAS_TOC));
            BlobSections s = BlobSections.read(r);
            assertEquals(List.of("image.blob", "blob.meta", "blob.meta.header", "blob.digest", "image.boot"),
                    s.sections().stream().map(BlobSections.Section::name).toList());
            assertTrue(sb.lookupPath("/usr/bin/hello") > 0);
        }
        Path tar = work.resolve("x.tar");
        Cli.run("unpack", blob.toString(), "--blob", blob.toString(), "-o", tar.toString()).ok();
        assertTrue(Sh.run("tar", "-tvf", tar.toString()).contains("usr/bin/hello"));
        assertFalse(Files.exists(work.resolve("boot")));
    }
}
