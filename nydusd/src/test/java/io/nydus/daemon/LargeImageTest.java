package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.BootstrapSpec;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import io.nydus.rafs.v6.RafsV6Writer;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1,000,000-file image mounts and serves a metadata walk with a 64 MiB heap: the daemon keeps nothing per
 * inode (the bootstrap is mapped, path resolution goes through a fixed-size table).
 */
class LargeImageTest {
    static final int DIRS = 1000;
    static final int FILES_PER_DIR = 1000;

    @TempDir
    Path dir;

    static void writeBootstrap(Path out) throws Exception {
        Tree tree = Tree.empty();
        for (int d = 0; d < DIRS; d++) {
            TreeInode di = new TreeInode(FileMode.S_IFDIR | 0755);
            di.mtime = 1_700_000_000L;
            TreeEntry de = new TreeEntry(("d" + (10000 + d)).getBytes(StandardCharsets.UTF_8), di);
            tree.root().put(de);
            for (int f = 0; f < FILES_PER_DIR; f++) {
                TreeInode fi = new TreeInode(FileMode.S_IFREG | 0644);
                fi.mtime = 1_700_000_000L + f;
                fi.mtimeNsec = f;
                fi.uid = d;
                de.put(new TreeEntry(("file-" + (1_000_000 + f)).getBytes(StandardCharsets.UTF_8), fi));
            }
        }
        BootstrapSpec spec = new BootstrapSpec(tree, List.of(), 1 << 20, Compressor.ZSTD, Digester.SHA256, true,
                List.of());
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
            RafsV6Writer.write(spec, os);
        }
    }

    @Test
    void millionFilesWithSixtyFourMegabytesOfHeap() throws Exception {
        Path boot = dir.resolve("million.boot");
        writeBootstrap(boot);
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + blobs
                + "\"}}},\"mode\":\"direct\"}");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", boot.toString(), "-A", sock.toString()), Map.of("NYDUSD_HEAP", "64m"))) {
            d.awaitState(sock, "RUNNING");
            MountInfo.dropCaches();
            // Every name, through readdir.
            String count = ImageChecks.run("bash", "-c", "find '" + mnt + "' -type f | wc -l").trim();
            assertEquals(Integer.toString(DIRS * FILES_PER_DIR), count);
            // Every inode of a fifth of the tree looked up and stat'ed, twice, with the caches dropped between.
            for (int pass = 0; pass < 2; pass++) {
                MountInfo.dropCaches();
                String out = ImageChecks.run("bash", "-c", "find '" + mnt + "'/d10[01]* -type f -printf '%U %s\\n' "
                        + "| sort | uniq -c | wc -l");
                assertEquals("200", out.trim(), "200 directories, one owner each");
            }
            assertTrue(d.process().isAlive());
            assertEquals("RUNNING", new UnixHttp(sock).get(ApiServer.DAEMON).json().get("state").asText());
            assertEquals(0, d.awaitExitAfterTerm(), d.stderr());
        }
    }
}
