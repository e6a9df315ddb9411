package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.TreeManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identical chunks are stored once per blob, and not at all when a chunk dict or a parent already has them. */
class DedupTest {
    @TempDir
    Path work;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void identicalChunksAreStoredOnce() throws Exception {
        Path src = Files.createDirectories(work.resolve("src"));
        byte[] block = random(0x10000, 1);
        for (int i = 0; i < 4; i++) {
            Files.write(src.resolve("copy" + i), block);
        }
        // One file made of the same 64 KiB block repeated: every chunk is a duplicate.
        byte[] repeated = new byte[0x10000 * 8];
        for (int i = 0; i < 8; i++) {
            System.arraycopy(block, 0, repeated, i * 0x10000, 0x10000);
        }
        Files.write(src.resolve("repeated"), repeated);
        Path boot = work.resolve("boot");
        Cli.run("create", "--chunk-size", "0x10000", "--compressor", "none", "-B", boot.toString(), "-b",
                work.resolve("blob").toString(), src.toString()).ok();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            assertEquals(1, sb.blobs().get(0).chunkCount());
            assertTrue(Files.size(work.resolve("blob")) < 0x10000 + 8192 + 4096);
        }
        Cli.Result r = Cli.run("stat", "-B", boot.toString()).ok();
        assertTrue(r.out().contains("12 chunks") && r.out().contains("1 unique chunks"), r.out());
    }

    @Test
    void chunkDictChunksAreReferencedNotWritten() throws Exception {
        Path a = Files.createDirectories(work.resolve("a"));
        for (int i = 0; i < 5; i++) {
            Files.write(a.resolve("big" + i), random(0x30000, 10 + i));
        }
        Path blobs = work.resolve("blobs");
        Path bootA = work.resolve("a.boot");
        Cli.run("create", "--chunk-size", "0x10000", "-B", bootA.toString(), "-D", blobs.toString(), a.toString()).ok();

        Path b = Files.createDirectories(work.resolve("b"));
        for (int i = 0; i < 4; i++) {
            Files.write(b.resolve("big" + i), random(0x30000, 10 + i)); // shared with a
        }
        Files.write(b.resolve("new"), random(0x20000, 99));
        Path bootB = work.resolve("b.boot");
        Cli.run("create", "--chunk-size", "0x10000", "--chunk-dict", "bootstrap=" + bootA, "-B", bootB.toString(), "-D",
                blobs.toString(), b.toString()).ok();
        try (RafsSuper sa = RafsSuper.open(bootA); RafsSuper sb = RafsSuper.open(bootB)) {
            assertEquals(2, sb.blobs().size(), "the dict blob joins the blob table");
            assertEquals(sa.blobs().get(0).blobId(), sb.blobs().get(0).blobId());
            BlobInfo own = sb.blobs().get(1);
            assertEquals(2, own.chunkCount(), "only the two new chunks are written");
        }
        Path tar = work.resolve("b.tar");
        Cli.run("unpack", bootB.toString(), "-D", blobs.toString(), "-o", tar.toString()).ok();
        Path out = Files.createDirectories(work.resolve("out"));
        Sh.run("tar", "-xpf", tar.toString(), "-C", out.toString());
        TreeManifest.assertSame(b, out, TreeManifest.Options.DEFAULT.withoutXattrs());
    }

    @Test
    void parentChunksAreNotWrittenAgain() throws Exception {
        Path l1 = Files.createDirectories(work.resolve("l1"));
        Files.write(l1.resolve("lib"), random(0x40000, 5));
        Path blobs = work.resolve("blobs");
        Path b1 = work.resolve("1.boot");
        Cli.run("create", "--chunk-size", "0x10000", "-B", b1.toString(), "-D", blobs.toString(), l1.toString()).ok();
        Path l2 = Files.createDirectories(work.resolve("l2"));
        Files.write(l2.resolve("copy-of-lib"), random(0x40000, 5));
        Path b2 = work.resolve("2.boot");
        Cli.run("create", "--chunk-size", "0x10000", "--parent-bootstrap", b1.toString(), "-B", b2.toString(), "-D",
                blobs.toString(), l2.toString()).ok();
        try (RafsSuper sb = RafsSuper.open(b2)) {
            assertEquals(1, sb.blobs().size(), "no new blob: every chunk is in the parent's");
            assertEquals(sb.chunk(sb.lookupPath("/lib"), 2).compressedOffset(),
                    sb.chunk(sb.lookupPath("/copy-of-lib"), 2).compressedOffset());
        }
    }
}
