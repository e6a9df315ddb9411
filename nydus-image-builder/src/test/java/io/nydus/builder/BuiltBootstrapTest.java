package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.RafsVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A merge of layers held in memory as their builds left them writes the same bytes as a merge that reads the layer
 * bootstraps back from their files (what nydusify relies on to skip reading them).
 */
class BuiltBootstrapTest {

    @Property(tries = 12)
    void mergeFromMemoryEqualsMergeFromFiles(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int layers)
            throws Exception {
        Path work = Sh.tempDir("built-boot");
        try {
            RafsVersion version = Math.floorMod(seed, 3L) == 0 ? RafsVersion.V5 : RafsVersion.V6;
            List<CreateResult> built = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                Path src = work.resolve("src" + i);
                RandomTree.create(src, seed + i, false);
                Path tar = work.resolve("layer" + i + ".tar");
                Sh.run("bash", "-c", "tar --xattrs --xattrs-include='*' --format=posix --numeric-owner -C '" + src
                        + "' -cf '" + tar + "' .");
                built.add(create(work, tar, version, "l" + i));
            }
            built.add(create(work, whiteouts(work.resolve("wh.tar"), work.resolve("src0")), version, "wh"));
            assertSameMerge(work, built);
        } finally {
            Sh.delete(work);
        }
    }

    /** Builds a layer as nydusify does: whiteouts kept as files, blob meta inlined, a TOC for v6. */
    private static CreateResult create(Path work, Path tar, RafsVersion version, String name) throws IOException {
        CreateOptions o = new CreateOptions();
        o.sourceType = CreateOptions.SourceType.TAR;
        o.source = tar;
        o.fsVersion = version;
        o.blob = work.resolve(name + ".blob");
        o.bootstrap = work.resolve(name + ".boot");
        o.blobInlineMeta = true;
        o.blobToc = version == RafsVersion.V6;
        o.whiteoutSpec = WhiteoutSpec.NONE;
        return ImageCreator.create(o);
    }

    private static void assertSameMerge(Path work, List<CreateResult> layers) throws IOException {
        Path fromFiles = merge(work, layers, false);
        Path fromMemory = merge(work, layers, true);
        assertEquals(-1, Files.mismatch(fromFiles, fromMemory), "merged bootstraps differ");
    }

    private static Path merge(Path work, List<CreateResult> layers, boolean inMemory) throws IOException {
        MergeOptions mo = new MergeOptions();
        mo.sources = new ArrayList<>(layers.stream().map(CreateResult::bootstrap).toList());
        mo.blobDigests = new ArrayList<>(layers.stream().map(CreateResult::blobDigest).toList());
        mo.implicitDirs = new ArrayList<>(layers.stream().map(CreateResult::implicitDirs).toList());
        mo.built = inMemory ? new ArrayList<>(layers.stream().map(CreateResult::built).toList()) : null;
        mo.bootstrap = work.resolve(inMemory ? "memory.boot" : "files.boot");
        return Merger.merge(mo).bootstrap();
    }

    /**
     * A top layer that deletes a file and a directory of {@code lower}, makes another directory opaque with a new
     * file in it, and adds a file under directories no entry describes.
     */
    private static Path whiteouts(Path tar, Path lower) throws IOException {
        List<Path> top;
        try (var s = Files.list(lower)) {
            top = s.filter(p -> p.getFileName().toString().length() < 200).sorted().toList(); // room for ".wh."
        }
        List<Path> dirs = top.stream().filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        List<Path> files = top.stream().filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        try (OutputStream out = Files.newOutputStream(tar); PaxTarWriter t = new PaxTarWriter(out)) {
            if (!files.isEmpty()) {
                entry(t, ".wh." + files.get(0).getFileName(), PaxTarWriter.REG, "");
            }
            if (!dirs.isEmpty()) {
                entry(t, ".wh." + dirs.get(0).getFileName(), PaxTarWriter.REG, "");
            }
            if (dirs.size() > 1) {
                String d = dirs.get(1).getFileName() + "/";
                entry(t, d, PaxTarWriter.DIR, "");
                entry(t, d + ".wh..wh..opq", PaxTarWriter.REG, "");
                entry(t, d + "new", PaxTarWriter.REG, "new file");
            }
            entry(t, "implied/sub/file", PaxTarWriter.REG, "under directories no entry describes");
            t.finish();
        }
        return tar;
    }

    private static void entry(PaxTarWriter t, String name, byte type, String content) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        t.putEntry(new PaxTarWriter.Header(name, type, type == PaxTarWriter.DIR ? 0755 : 0644, 0, 0, data.length, 100, 0,
                null, 0, 0, Map.of()));
        if (type == PaxTarWriter.REG) {
            t.write(data);
            t.pad();
        }
    }
}
