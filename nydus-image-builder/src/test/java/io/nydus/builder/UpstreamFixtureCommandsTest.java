package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tools work on images made by upstream Nydus. */
class UpstreamFixtureCommandsTest {
    @TempDir
    Path work;

    @Test
    void checkPassesOnUpstreamImagesWithTheirBlobs() {
        Path blobs = Fixtures.get("blobs");
        Cli.Result v6 = Cli.run("check", "-v", "-D", blobs.toString(), Fixtures.get("bootstrap/rafs-v6-2.2.boot").toString()).ok();
        assertTrue(v6.out().contains("2 verified"), v6.out());
        for (String v5 : new String[] {"sha256-nocompress-repeatable", "blake3-lz4_block-non_repeatable"}) {
            Cli.Result r = Cli.run("check", "-v", "-D", Fixtures.get("repeatable/blobs").toString(),
                    Fixtures.get("repeatable/" + v5).toString()).ok();
            assertTrue(r.out().contains("OK"), r.out());
        }
    }

    @Test
    void unpackGivesFilesMatchingTheirChunkDigests() throws Exception {
        Path boot = Fixtures.get("bootstrap/rafs-v6-2.2.boot");
        Path tar = work.resolve("v6.tar");
        Cli.run("unpack", boot.toString(), "-D", Fixtures.get("blobs").toString(), "-o", tar.toString()).ok();
        Path out = Files.createDirectories(work.resolve("v6"));
        Sh.run("tar", "-xf", tar.toString(), "-C", out.toString());
        try (RafsSuper sb = RafsSuper.open(boot)) {
            for (String name : new String[] {"lib.rs", "sync_io.rs"}) {
                byte[] data = Files.readAllBytes(out.resolve(name));
                ChunkInfo c = sb.chunk(sb.lookupPath("/" + name), 0);
                assertEquals(c.uncompressedSize(), data.length);
                assertArrayEquals(c.digest(), Digester.BLAKE3.digest(data));
            }
        }
        Path tar5 = work.resolve("v5.tar");
        Path boot5 = Fixtures.get("repeatable/sha256-nocompress-repeatable");
        Cli.run("unpack", boot5.toString(), "-D", Fixtures.get("repeatable/blobs").toString(), "-o", tar5.toString()).ok();
        Path out5 = Files.createDirectories(work.resolve("v5"));
        Sh.run("tar", "-xf", tar5.toString(), "-C", out5.toString());
        assertTrue(Files.isSymbolicLink(out5.resolve("symlink-test/foo")));
        assertEquals(Files.getAttribute(out5.resolve("hardlink-test/foo"), "unix:ino"),
                Files.getAttribute(out5.resolve("hardlink-test/test.sh"), "unix:ino"), "hard links stay linked");
    }

    @Test
    void blobWithInlinedBootstrapUnpacksFromItself() throws Exception {
        Path blob = Fixtures.get("toc/2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca");
        Path tar = work.resolve("toc.tar");
        Cli.run("unpack", blob.toString(), "--blob", blob.toString(), "-o", tar.toString()).ok();
        String list = Sh.run("tar", "-tf", tar.toString());
        assertTrue(list.contains("lib.rs") && list.contains("logger.rs") && list.contains("error.rs"), list);
        Cli.Result stats = Cli.run("inspect", "-R", "stats", blob.toString()).ok();
        assertTrue(stats.out().contains("V6"), stats.out());
    }

    @Test
    void inspectAnswersUpstreamRequests() {
        String boot = Fixtures.get("bootstrap/rafs-v6-2.2.boot").toString();
        assertTrue(Cli.run("inspect", "-R", "blobs", boot).ok().out().contains(
                "be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef"));
        assertTrue(Cli.run("inspect", "-R", "ls", boot).ok().out().contains("sync_io.rs"));
        assertTrue(Cli.run("inspect", "-R", "stat /lib.rs", boot).ok().out().contains("16931"));
        assertTrue(Cli.run("inspect", "-R", "icheck 136", boot).ok().out().contains("/sync_io.rs"));
        assertEquals(1, Cli.run("inspect", "-R", "stat /missing", boot).code());
    }

    @Test
    void helpListsEverySubcommandAndUpstreamFlags() {
        String help = Cli.run("--help").out();
        for (String c : new String[] {"create", "merge", "check", "inspect", "stat", "unpack"}) {
            assertTrue(help.contains(c), help);
        }
        String create = Cli.run("create", "--help").out();
        for (String f : new String[] {"--type", "--fs-version", "--compressor", "--digester", "--chunk-size", "--bootstrap",
            "--blob", "--blob-dir", "--blob-inline-meta", "--features", "--blob-id", "--whiteout-spec",
            "--parent-bootstrap", "--chunk-dict", "--prefetch-policy", "--repeatable", "--output-json"}) {
            assertTrue(create.contains(f), f);
        }
    }
}
