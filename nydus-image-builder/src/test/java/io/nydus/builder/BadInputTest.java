package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.FileMode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gets a one-line error naming the problem, a non-zero exit, no stack trace, and nothing left under the
 * output names.
 */
class BadInputTest {
    @TempDir
    Path work;

    private static PaxTarWriter.Header file(String name, int size) {
        return new PaxTarWriter.Header(name, PaxTarWriter.REG, 0644, 0, 0, size, 1, 0, null, 0, 0, Map.of());
    }

    private Path tar(String name, List<PaxTarWriter.Header> entries, boolean finish) throws IOException {
        Path p = work.resolve(name);
        try (OutputStream out = Files.newOutputStream(p); PaxTarWriter t = new PaxTarWriter(out)) {
            for (PaxTarWriter.Header h : entries) {
                t.putEntry(h);
                if (h.type() == PaxTarWriter.REG) {
                    t.write(("x".repeat((int) h.size())).getBytes(StandardCharsets.US_ASCII));
                    t.pad();
                }
            }
            if (finish) {
                t.finish();
            }
        }
        return p;
    }

    /** Runs create on a tar and returns the error line; asserts exit 1 and no outputs. */
    private String createFails(Path tar) throws IOException {
        Path out = work.resolve("out-" + tar.getFileName());
        Files.createDirectories(out);
        Cli.Result r = Cli.run("create", "-t", "tar-rafs", "-B", out.resolve("boot").toString(), "-b",
                out.resolve("blob").toString(), tar.toString());
        assertEquals(1, r.code(), r.err());
        assertOneLineError(r.err());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(), s.toList(), "nothing may be left in the output directory");
        }
        return r.err();
    }

    private static void assertOneLineError(String err) {
        assertTrue(err.startsWith("error: "), err);
        assertEquals(1, err.strip().lines().count(), "one line, no stack trace: " + err);
    }

    @Test
    void truncatedTar() throws Exception {
        Path full = tar("full.tar", List.of(file("a", 5000), file("b", 3000)), true);
        byte[] b = Files.readAllBytes(full);
        Path cut = work.resolve("cut.tar");
        Files.write(cut, java.util.Arrays.copyOf(b, 512 + 2000));
        assertTrue(createFails(cut).contains("truncated"));
    }

    @Test
    void corruptTarHeader() throws Exception {
        Path t = tar("t.tar", List.of(file("a", 10), file("b", 10)), true);
        byte[] b = Files.readAllBytes(t);
        b[1024 + 100] ^= 0x55; // mode field of the second header: its checksum no longer matches
        Files.write(t, b);
        assertTrue(createFails(t).contains("corrupt"));
    }

    @Test
    void corruptGzip() throws Exception {
        Path t = work.resolve("t.tar.gz");
        Files.write(t, new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        createFails(t);
    }

    @Test
    void dotDotAndAbsolutePaths() throws Exception {
        assertTrue(createFails(tar("dd.tar", List.of(file("a/../../etc/passwd", 3)), true)).contains("'..'"));
        assertTrue(createFails(tar("abs.tar", List.of(file("/etc/passwd", 3)), true)).contains("absolute"));
    }

    @Test
    void hardLinkToMissingTarget() throws Exception {
        PaxTarWriter.Header link = new PaxTarWriter.Header("b", PaxTarWriter.LINK, 0644, 0, 0, 0, 1, 0, "missing", 0, 0,
                Map.of());
        assertTrue(createFails(tar("hl.tar", List.of(file("a", 3), link), true)).contains("missing"));
    }

    @Test
    void duplicateEntriesLaterWins() throws Exception {
        PaxTarWriter.Header first = file("dup", 3);
        PaxTarWriter.Header second = new PaxTarWriter.Header("dup", PaxTarWriter.SYMLINK, 0777, 0, 0, 0, 1, 0, "target",
                0, 0, Map.of());
        Path t = tar("dup.tar", List.of(first, second, file("dir/f", 2), file("dir/f", 7)), true);
        Path boot = work.resolve("boot");
        Cli.run("create", "-t", "tar-rafs", "-B", boot.toString(), "-b", work.resolve("blob").toString(), t.toString()).ok();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            assertTrue(FileMode.isSymlink(sb.inode(sb.lookupPath("/dup")).mode()));
            assertEquals(7, sb.inode(sb.lookupPath("/dir/f")).size());
        }
    }

    @Test
    void tarWithoutEndOfArchiveBlocksIsAccepted() throws Exception {
        // umoci insert writes such layers; containerd applies them.
        Path t = tar("noeof.tar", List.of(file("a", 700), file("b", 5)), false);
        Path boot = work.resolve("boot");
        Cli.run("create", "-t", "tar-rafs", "-B", boot.toString(), "-b", work.resolve("blob").toString(), t.toString()).ok();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            assertEquals(5, sb.inode(sb.lookupPath("/b")).size());
        }
    }

    @Test
    void tarEndingRightAfterTheLastEntrysDataIsAccepted() throws Exception {
        // What `umoci insert` writes: no padding after the last data, no end-of-archive blocks.
        Path t = tar("nopad.tar", List.of(file("a", 700), file("b", 5)), false);
        byte[] b = Files.readAllBytes(t);
        Path cut = work.resolve("cut.tar");
        Files.write(cut, java.util.Arrays.copyOf(b, b.length - (512 - 5)));
        Path boot = work.resolve("boot");
        Cli.run("create", "-t", "tar-rafs", "-B", boot.toString(), "-b", work.resolve("blob").toString(), cut.toString()).ok();
        try (RafsSuper sb = RafsSuper.open(boot)) {
            assertEquals(5, sb.inode(sb.lookupPath("/b")).size());
        }
        // ... but a header cut short is still an error.
        Path partial = work.resolve("partial.tar");
        byte[] withHeader = Files.readAllBytes(tar("three.tar", List.of(file("a", 700), file("b", 5), file("c", 1)), false));
        Files.write(partial, java.util.Arrays.copyOf(withHeader, 512 + 1024 + 512 + 512 + 100));
        createFails(partial);
    }

    @Test
    void invalidChunkSizes() throws Exception {
        Path src = Files.createDirectories(work.resolve("src"));
        for (String cs : List.of("0x1001", "0x2000000", "0x800", "abc", "-4096")) {
            Cli.Result r = Cli.run("create", "--chunk-size", cs, "-B", work.resolve("b").toString(), "-b",
                    work.resolve("x").toString(), src.toString());
            assertEquals(1, r.code(), cs);
            assertOneLineError(r.err());
            assertTrue(r.err().contains("chunk-size"), r.err());
        }
        assertFalse(Files.exists(work.resolve("b")));
        assertFalse(Files.exists(work.resolve("x")));
    }

    @Test
    void missingSource() {
        Cli.Result r = Cli.run("create", "-t", "tar-rafs", "-B", work.resolve("b").toString(), "-b",
                work.resolve("x").toString(), work.resolve("nope.tar").toString());
        assertEquals(1, r.code());
        assertOneLineError(r.err());
    }

    @Test
    void malformedBootstrapForCheckInspectUnpack() throws Exception {
        Path junk = work.resolve("junk.boot");
        Files.write(junk, new byte[8192]);
        Path trunc = work.resolve("trunc.boot");
        Path good = work.resolve("good.boot");
        Path src = Files.createDirectories(work.resolve("src"));
        Files.writeString(src.resolve("f"), "data");
        Cli.run("create", "-B", good.toString(), "-b", work.resolve("blob").toString(), src.toString()).ok();
        byte[] g = Files.readAllBytes(good);
        Files.write(trunc, java.util.Arrays.copyOf(g, 2000));
        for (Path bad : List.of(junk, trunc, work.resolve("absent.boot"))) {
            for (String[] args : List.of(new String[] {"check", bad.toString()},
                    new String[] {"inspect", "-R", "stats", bad.toString()},
                    new String[] {"unpack", bad.toString(), "-b", work.resolve("blob").toString(), "-o",
                        work.resolve("o.tar").toString()})) {
                Cli.Result r = Cli.run(args);
                assertEquals(1, r.code(), String.join(" ", args) + ": " + r.err());
                assertOneLineError(r.err());
            }
        }
        assertFalse(Files.exists(work.resolve("o.tar")));
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli.Result r = Cli.run("create", "--no-such-flag", "x");
        assertEquals(2, r.code());
    }
}
