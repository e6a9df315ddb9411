package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layers stacked with whiteouts give the tree a container runtime would show, whether they are merged (as nydusify
 * does: each layer built with {@code --whiteout-spec none}, then {@code merge}) or stacked with
 * {@code --parent-bootstrap}.
 */
class WhiteoutMergeTest {
    @TempDir
    Path work;

    private record E(String name, byte type, String content) {
    }

    private static E f(String name, String content) {
        return new E(name, PaxTarWriter.REG, content);
    }

    private static E d(String name) {
        return new E(name, PaxTarWriter.DIR, null);
    }

    private Path layer(String name, E... entries) throws IOException {
        Path p = work.resolve(name + ".tar");
        try (OutputStream out = Files.newOutputStream(p); PaxTarWriter t = new PaxTarWriter(out)) {
            for (E e : entries) {
                byte[] data = e.content == null ? new byte[0] : e.content.getBytes(StandardCharsets.UTF_8);
                int mode = e.type == PaxTarWriter.DIR ? 0755 : 0644;
                long major = 0;
                long minor = 0;
                t.putEntry(new PaxTarWriter.Header(e.name, e.type, mode, 0, 0, data.length, 100, 0, null, major, minor,
                        e.name.equals("opaque-ovl/") && name.equals("o2") ? Map.of("trusted.overlay.opaque", "y".getBytes()) : Map.of()));
                if (e.type == PaxTarWriter.REG) {
                    t.write(data);
                    t.pad();
                }
            }
            t.finish();
        }
        return p;
    }

    private static final E[] L1 = {d("a/"), f("a/x", "x1"), f("a/y", "y1"), d("b/"), f("b/z", "z1"), d("b/sub/"),
        f("b/sub/deep", "d1"), f("c", "file c"), d("d/"), d("d/e/"), f("d/e/f", "f1"), f("keep", "k1")};
    private static final E[] L2 = {d("a/"), f("a/.wh.x", ""), f("a/y", "y2"), d("b/"), f("b/.wh..wh..opq", ""),
        f("b/new", "n2"), d("c/"), f("c/inside", "i2"), f(".wh.keep", "")};
    private static final E[] L3 = {d("d/"), f("d/.wh.e", ""), d("d/e/"), f("d/e/g", "g3"), f("a/x", "x3")};

    /** What the stacked layers must show: path → type and content. */
    private static Map<String, String> expected() {
        Map<String, String> m = new TreeMap<>();
        m.put("/", "dir");
        m.put("/a", "dir");
        m.put("/a/x", "x3");
        m.put("/a/y", "y2");
        m.put("/b", "dir");
        m.put("/b/new", "n2");
        m.put("/c", "dir");
        m.put("/c/inside", "i2");
        m.put("/d", "dir");
        m.put("/d/e", "dir");
        m.put("/d/e/g", "g3");
        return m;
    }

    private Map<String, String> listing(Path boot, Path blobDir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (RafsSuper sb = RafsSuper.open(boot); LocalBlobs blobs = new LocalBlobs(sb.blobs(), null, blobDir)) {
            sb.walk(e -> {
                if (FileMode.isDir(e.inode().mode())) {
                    m.put(e.path(), "dir");
                } else {
                    StringBuilder s = new StringBuilder();
                    for (int i = 0; i < e.inode().chunkCount(); i++) {
                        s.append(new String(blobs.read(sb.chunk(e.ino(), i), true), StandardCharsets.UTF_8));
                    }
                    m.put(e.path(), s.toString());
                }
            });
        }
        return m;
    }

    @Test
    void mergeOfLayersBuiltWithoutWhiteoutInterpretation() throws Exception {
        Path blobs = work.resolve("blobs");
        List<String> boots = new ArrayList<>();
        int i = 0;
        for (E[] l : List.of(L1, L2, L3)) {
            i++;
            Path boot = work.resolve("layer" + i + ".boot");
            Cli.run("create", "-t", "tar-rafs", "--whiteout-spec", "none", "-B", boot.toString(), "-D", blobs.toString(),
                    layer("l" + i, l).toString()).ok();
            boots.add(boot.toString());
        }
        Path merged = work.resolve("merged.boot");
        List<String> args = new ArrayList<>(List.of("merge", "-B", merged.toString()));
        args.addAll(boots);
        Cli.run(args.toArray(String[]::new)).ok();
        assertEquals(expected(), listing(merged, blobs));
        Cli.run("check", "-D", blobs.toString(), merged.toString()).ok();
    }

    @Test
    void stackingWithParentBootstrap() throws Exception {
        Path blobs = work.resolve("blobs");
        Path parent = null;
        int i = 0;
        for (E[] l : List.of(L1, L2, L3)) {
            i++;
            Path boot = work.resolve("stack" + i + ".boot");
            List<String> args = new ArrayList<>(List.of("create", "-t", "tar-rafs", "-B", boot.toString(), "-D",
                    blobs.toString()));
            if (parent != null) {
                args.addAll(List.of("--parent-bootstrap", parent.toString()));
            }
            args.add(layer("s" + i, l).toString());
            Cli.run(args.toArray(String[]::new)).ok();
            parent = boot;
        }
        assertEquals(expected(), listing(parent, blobs));
    }

    @Test
    void overlayfsWhiteouts() throws Exception {
        Path blobs = work.resolve("blobs");
        Path base = work.resolve("base.boot");
        Cli.run("create", "-t", "tar-rafs", "-B", base.toString(), "-D", blobs.toString(),
                layer("o1", d("gone/"), f("gone/x", "1"), d("opaque-ovl/"), f("opaque-ovl/old", "o"), f("stay", "s"))
                        .toString()).ok();
        E whiteout = new E("gone", PaxTarWriter.CHR, null);
        Path top = work.resolve("top.boot");
        Cli.run("create", "-t", "tar-rafs", "--whiteout-spec", "overlayfs", "--parent-bootstrap", base.toString(), "-B",
                top.toString(), "-D", blobs.toString(),
                layer("o2", whiteout, d("opaque-ovl/"), f("opaque-ovl/new", "n")).toString()).ok();
        Map<String, String> m = new TreeMap<>();
        m.put("/", "dir");
        m.put("/opaque-ovl", "dir");
        m.put("/opaque-ovl/new", "n");
        m.put("/stay", "s");
        assertEquals(m, listing(top, blobs));
        try (RafsSuper sb = RafsSuper.open(top)) {
            assertEquals(null, sb.xattrs(sb.lookupPath("/opaque-ovl")).get("trusted.overlay.opaque"),
                    "the opaque marker xattr is consumed by the overlay");
        }
    }
}
