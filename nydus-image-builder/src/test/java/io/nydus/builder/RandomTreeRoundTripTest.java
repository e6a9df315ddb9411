package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.testdata.TreeManifest;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.BlobSections;
import io.nydus.rafs.blob.TarHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Random trees with every kind of entry survive create → unpack → extract (GNU tar) unchanged: contents, modes,
 * owners, nanosecond mtimes, symlink targets, hard-link groups, device numbers, xattrs and ACLs. Uncompressed v6
 * images are also mounted by the kernel's EROFS driver and compared directly.
 */
class RandomTreeRoundTripTest {
    private static final int[] CHUNK_SIZES = {0x1000, 0x10000, 0x100000};

    /** A build configuration chosen from the seed. */
    private static CreateOptions options(long seed) {
        Random r = new Random(seed ^ 0x5DEECE66DL);
        CreateOptions o = new CreateOptions();
        o.fsVersion = r.nextBoolean() ? RafsVersion.V6 : RafsVersion.V5;
        o.compressor = Compressor.values()[new int[] {0, 1, 3}[r.nextInt(3)]];
        o.digester = r.nextBoolean() ? Digester.SHA256 : Digester.BLAKE3;
        o.chunkSize = CHUNK_SIZES[r.nextInt(CHUNK_SIZES.length)];
        o.blobToc = o.fsVersion == RafsVersion.V6 && r.nextBoolean();
        o.blobInlineMeta = r.nextInt(3) == 0;
        o.alignedChunk = r.nextBoolean();
        o.threads = 1 + r.nextInt(3);
        return o;
    }

    @Property(tries = 8)
    void directorySourceRoundTrips(@ForAll long seed) throws Exception {
        Path work = Sh.tempDir("rt-dir");
        try {
            Path src = work.resolve("src");
            RandomTree.create(src, seed, true);
            CreateOptions o = options(seed);
            o.sourceType = CreateOptions.SourceType.DIRECTORY;
            o.source = src;
            roundTrip(work, src, o);
        } finally {
            Sh.delete(work);
        }
    }

    @Property(tries = 8)
    void tarSourceRoundTrips(@ForAll long seed) throws Exception {
        Path work = Sh.tempDir("rt-tar");
        try {
            Path src = work.resolve("src");
            RandomTree.create(src, seed, false);
            Path tar = work.resolve("layer.tar");
            String z = new String[] {"", "--gzip", "--zstd"}[(int) Math.floorMod(seed, 3L)];
            Sh.run("bash", "-c", "tar --xattrs --xattrs-include='*' --format=posix --numeric-owner " + z + " -C '" + src
                    + "' -cf '" + tar + "' .");
            CreateOptions o = options(seed);
            o.sourceType = CreateOptions.SourceType.TAR;
            o.source = tar;
            roundTrip(work, src, o);
        } finally {
            Sh.delete(work);
        }
    }

    private static void roundTrip(Path work, Path src, CreateOptions o) throws Exception {
        o.bootstrap = work.resolve("boot");
        o.blob = work.resolve("blob");
        CreateResult r = ImageCreator.create(o);
        if (r.blob() != null) {
            assertBlobDigests(r, o);
        }
        try (RafsSuper sb = RafsSuper.open(o.bootstrap)) {
            Checker.check(sb, o.blob, null);
            Path tar = work.resolve("out.tar");
            Unpacker.unpack(sb, o.blob, null, tar);
            Path out = work.resolve("out");
            Files.createDirectories(out);
            Sh.run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString(), "-C", out.toString());
            TreeManifest.assertSame(src, out, TreeManifest.Options.DEFAULT.withRootAttributes());
        }
        if (o.fsVersion == RafsVersion.V6 && o.compressor == Compressor.NONE) {
            KernelErofs.assertMountEquals(o.bootstrap, r.blobPath(), src, work.resolve("mnt"));
        }
    }

    /** The blob's OCI digest is the SHA-256 of the file; the TOC's image.blob digest covers data and header. */
    private static void assertBlobDigests(CreateResult r, CreateOptions o) throws IOException {
        byte[] file = Files.readAllBytes(r.blobPath());
        assertEquals("sha256:" + HexFormat.of().formatHex(Digester.sha256().digest(file)), r.blobDigest());
        if (o.blobToc) {
            try (BlobReader reader = BlobReader.ofFile(r.blobPath())) {
                BlobSections.Section data = BlobSections.read(reader).find(TarHeader.IMAGE_BLOB);
                MessageDigest md = Digester.sha256();
                md.update(file, 0, (int) data.compressedSize() + TarHeader.SIZE);
                assertArrayEquals(md.digest(), data.digest());
            }
        }
    }
}
