package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * File names are bytes: names and symlink targets that are not UTF-8 (or contain newlines) are listed, looked up
 * and read back byte for byte. Checked with the shell, whose ls/stat/readlink see exactly what the kernel passes.
 */
class FileNameTest {
    @TempDir
    Path dir;

    private static TreeEntry entry(byte[] name, int mode) {
        TreeInode in = new TreeInode(mode);
        in.mtime = 1_700_000_000L;
        return new TreeEntry(name, in);
    }

    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) v[i];
        }
        return out;
    }

    static void write(Path boot, RafsVersion v) throws Exception {
        Tree t = Tree.empty();
        TreeEntry d = entry(b(0xff, 0xfe, 'd'), FileMode.S_IFDIR | 0755);
        t.root().put(d);
        d.put(entry(b('l', 'a', 't', 'i', 'n', '1', '-', 0xe9), FileMode.S_IFREG | 0644));
        t.root().put(entry("héllo".getBytes(StandardCharsets.UTF_8), FileMode.S_IFREG | 0644));
        t.root().put(entry(b('n', 'e', 'w', '\n', 'l', 'i', 'n', 'e'), FileMode.S_IFREG | 0644));
        TreeEntry link = entry(b('l', 'n', 'k'), FileMode.S_IFLNK | 0777);
        link.inode().symlinkTarget = b(0xff, 0xfe, 'd', '/', 0x80);
        t.root().put(link);
        BootstrapSpec spec = new BootstrapSpec(t, List.of(), 1 << 20, Compressor.ZSTD, Digester.SHA256, true, List.of());
        try (OutputStream os = Files.newOutputStream(boot)) {
            spec.write(v, os);
        }
    }

    /** Output of a bash snippet run in {@code cwd}, as hex bytes. */
    private static String hex(Path cwd, String script) throws Exception {
        return ImageChecks.run("bash", "-c", "cd '" + cwd + "' && " + script + " | od -An -v -tx1 | tr -d ' \\n'");
    }

    @ParameterizedTest
    @EnumSource(RafsVersion.class)
    void namesAndTargetsAreBytes(RafsVersion v) throws Exception {
        Path boot = dir.resolve("names.boot");
        write(boot, v);
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + dir
                + "\"}}},\"mode\":\"direct\"}");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", boot.toString()))) {
            d.awaitMounted(mnt);
            MountInfo.dropCaches();
            // Names in byte order, NUL-separated: "héllo" (c3 a9), "lnk", "new\nline", 0xff 0xfe 'd'.
            assertEquals("68c3a96c6c6f00" + "6c6e6b00" + "6e65770a6c696e6500" + "fffe6400",
                    hex(mnt, "LC_ALL=C; printf '%s\\0' *"));
            assertEquals("6c6174696e312de9", hex(mnt, "ls $'\\xff\\xfed' | tr -d '\\n'"));
            assertEquals("30", hex(mnt, "stat -c %s $'\\xff\\xfed/latin1-\\xe9' | tr -d '\\n'"), "size 0");
            assertEquals("fffe642f80", hex(mnt, "readlink lnk | tr -d '\\n'"));
            assertEquals("30", hex(mnt, "stat -c %s $'new\\nline' | tr -d '\\n'"));
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }
}
