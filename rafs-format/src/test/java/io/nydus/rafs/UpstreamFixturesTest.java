package io.nydus.rafs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import io.nydus.rafs.blob.BlobSections;
import io.nydus.rafs.blob.CiTable;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.rafs.v6.ErofsInode;
import io.nydus.rafs.v6.RafsV6Super;
import io.nydus.testdata.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Upstream Nydus images read back with the values the format notes (§8, §10) record for them. */
class UpstreamFixturesTest {
    private static final String V6_BLOB = "be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef";
    private static final String V5_BLOB = "7334a2594e133cf8ae364189c2276b090fc490c627bcc3fb1077f0419a538e00";

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void v6BootstrapFromNydus22() throws Exception {
        try (RafsSuper sb = RafsSuper.open(Fixtures.get("bootstrap/rafs-v6-2.2.boot"))) {
            assertEquals(RafsVersion.V6, sb.version());
            assertEquals(0x194, sb.flags());
            assertEquals(Compressor.ZSTD, sb.compressor());
            assertEquals(Digester.BLAKE3, sb.digester());
            assertEquals(0x100000, sb.chunkSize());
            assertEquals(128, sb.rootIno());
            assertEquals(3, sb.inodeCount());
            RafsV6Super v6 = (RafsV6Super) sb;
            assertEquals(2, v6.superBlock().metaBlkaddr());
            assertEquals(9, v6.superBlock().blocks());
            assertEquals(0x1000, v6.extSuperBlock().blobTableOffset());
            assertEquals(0x4000, v6.extSuperBlock().chunkTableOffset());
            assertEquals(0xa0, v6.extSuperBlock().chunkTableSize());

            assertEquals(1, sb.blobs().size());
            BlobInfo blob = sb.blobs().get(0);
            assertEquals(V6_BLOB, blob.blobId());
            assertEquals(2, blob.chunkCount());
            assertEquals(0x70000021, blob.features());
            assertEquals(14554, blob.compressedSize());
            assertEquals(0x9000, blob.uncompressedSize());
            assertEquals(0x400, blob.tocSize());
            assertEquals(8314, blob.ciOffset());
            assertEquals(0x20, blob.ciCompressedSize());
            assertEquals(Compressor.NONE, blob.ciCompressor());

            Inode root = sb.inode(128);
            assertTrue(root.isDir());
            assertEquals(040755, root.mode());
            assertEquals(67, root.size());
            assertEquals(2, root.nlink());
            List<String> names = new ArrayList<>();
            sb.readdir(128, 0, (name, ino, mode, next) -> names.add(new String(name) + "@" + ino));
            assertEquals(List.of("lib.rs@133", "sync_io.rs@136"), names);
            assertEquals(133, sb.lookup(128, "lib.rs"));
            assertEquals(136, sb.lookupPath("/sync_io.rs"));
            assertEquals(-1, sb.lookup(128, "missing"));

            Inode lib = sb.inode(133);
            assertEquals(0100644, lib.mode());
            assertEquals(16931, lib.size());
            assertEquals(1676819553L, lib.mtime());
            assertEquals(0x28, v6.rawInode(133).iu());
            assertEquals(ErofsInode.LAYOUT_CHUNK_BASED, v6.rawInode(133).layout());
            ChunkInfo c0 = sb.chunk(133, 0);
            assertEquals(0, c0.index());
            assertEquals(0, c0.compressedOffset());
            assertEquals(4828, c0.compressedSize());
            assertEquals(16931, c0.uncompressedSize());
            ChunkInfo c1 = sb.chunk(136, 0);
            assertEquals(1, c1.index());
            assertEquals(0, c1.blobIndex());
            assertEquals(5 * 4096, c1.uncompressedOffset());
            assertEquals(4828, c1.compressedOffset());
            assertEquals(2974, c1.compressedSize());
            assertEquals(13400, c1.uncompressedSize());
            assertTrue(c1.isCompressed());
        }
    }

    @Test
    void v6BlobTrailerTocAndCiTable() throws Exception {
        Path blobPath = Fixtures.get("blobs/" + V6_BLOB);
        byte[] bytes = Files.readAllBytes(blobPath);
        try (RafsSuper sb = RafsSuper.open(Fixtures.get("bootstrap/rafs-v6-2.2.boot"));
                BlobReader r = BlobReader.ofFile(blobPath)) {
            BlobInfo blob = sb.blobs().get(0);
            BlobSections s = BlobSections.read(r);
            assertTrue(s.hasToc());
            assertEquals(List.of("image.blob", "blob.meta", "blob.meta.header", "blob.digest"),
                    s.sections().stream().map(BlobSections.Section::name).toList());
            MessageDigest md = Digester.sha256();
            assertArrayEquals(blob.tocDigest(), md.digest(s.rawToc()));
            assertEquals("cfc89ed0", HexFormat.of().formatHex(blob.tocDigest()).substring(0, 8));
            assertTrue(HexFormat.of().formatHex(blob.tocDigest()).endsWith("acde"));

            BlobMeta meta = BlobMeta.fromBlob(r, blob);
            CiTable ci = meta.table(0);
            assertEquals(2, ci.entries());
            ChunkInfo e0 = ci.chunk(0);
            assertEquals(0, e0.compressedOffset());
            assertEquals(4828, e0.compressedSize());
            assertEquals(0, e0.uncompressedOffset());
            assertEquals(16931, e0.uncompressedSize());
            ChunkInfo e1 = ci.chunk(1);
            assertEquals(4828, e1.compressedOffset());
            assertEquals(2974, e1.compressedSize());
            assertEquals(20480, e1.uncompressedOffset());
            assertEquals(13400, e1.uncompressedSize());

            // The blob.digest section holds the chunk digests, which equal the chunk table's.
            byte[] digests = s.load(r, s.find(TarHeader.BLOB_DIGEST), 1 << 20);
            assertEquals(64, digests.length);
            byte[] d1 = java.util.Arrays.copyOfRange(digests, 32, 64);
            assertArrayEquals(sb.chunk(136, 0).digest(), d1);

            // Blob id = sha256 of the file without the raw digest array [12954, 12954 + 64).
            md.update(bytes, 0, 12954);
            md.update(bytes, 12954 + 64, bytes.length - 12954 - 64);
            assertEquals(V6_BLOB, HexFormat.of().formatHex(md.digest()));

            // Chunk data decompresses to bytes whose blake3 digests are the recorded ones.
            for (long ino : new long[] {133, 136}) {
                ChunkInfo c = sb.chunk(ino, 0);
                byte[] data = Compressor.ZSTD.decompress(r.read(c.compressedOffset(), c.compressedSize()),
                        c.uncompressedSize());
                assertArrayEquals(c.digest(), Digester.BLAKE3.digest(data));
            }
        }
    }

    @Test
    void v5BootstrapsWithMerkleDigests() throws Exception {
        for (String name : List.of("sha256-nocompress-repeatable", "blake3-lz4_block-non_repeatable")) {
            try (RafsSuper sb = RafsSuper.open(Fixtures.get("repeatable/" + name))) {
                assertEquals(RafsVersion.V5, sb.version());
                assertEquals(54, sb.inodeCount());
                assertEquals(name.startsWith("sha256") ? 0x9 : 0x5, sb.flags());
                assertEquals(Compressor.NONE, sb.compressor());
                BlobInfo blob = sb.blobs().get(0);
                assertEquals(V5_BLOB, blob.blobId());
                assertEquals(23, blob.chunkCount());
                assertEquals(3508766, blob.uncompressedSize());
                assertEquals(3508766, blob.compressedSize());
                // Every inode digest is the Merkle digest of its content.
                Digester d = sb.digester();
                int[] checked = {0};
                sb.walk(e -> {
                    Digester.Hasher h = d.newHasher();
                    if (e.inode().isDir()) {
                        sb.readdir(e.ino(), 0, (n, ino, mode, next) -> {
                            h.update(sb.inodeDigest(ino));
                            return true;
                        });
                    } else if (e.inode().isReg()) {
                        for (ChunkInfo c : sb.chunks(e.ino())) {
                            h.update(c.digest());
                        }
                    } else if (e.inode().isSymlink()) {
                        h.update(sb.readlink(e.ino()));
                    }
                    assertArrayEquals(h.finish(), sb.inodeDigest(e.ino()), e.path());
                    checked[0]++;
                });
                assertEquals(54, checked[0]);
                // Hard links share i_ino (5) and have nlink 3.
                long foo = sb.lookupPath("/hardlink-test/foo");
                assertEquals(5, foo);
                assertEquals(5, sb.lookupPath("/normal-file-test/test.sh"));
                assertEquals(3, sb.inode(foo).nlink());
            }
        }
    }

    @Test
    void v5ChunksVerifyAgainstTheirBlob() throws Exception {
        try (RafsSuper sb = RafsSuper.open(Fixtures.get("repeatable/sha256-nocompress-repeatable"));
                BlobReader r = BlobReader.ofFile(Fixtures.get("repeatable/blobs/" + V5_BLOB))) {
            int[] n = {0};
            sb.walk(e -> {
                if (e.inode().isReg()) {
                    for (ChunkInfo c : sb.chunks(e.ino())) {
                        byte[] data = r.read(c.compressedOffset(), c.compressedSize());
                        assertArrayEquals(c.digest(), Digester.SHA256.digest(data), e.path());
                        n[0]++;
                    }
                }
            });
            assertTrue(n[0] >= 23);
        }
    }

    @Test
    void blobWithInlinedBootstrapAndToc() throws Exception {
        Path p = Fixtures.get("toc/2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca");
        try (BlobReader r = BlobReader.ofFile(p)) {
            BlobSections s = BlobSections.read(r);
            assertEquals(4, s.sections().size());
            byte[] toc = s.rawToc();
            assertEquals(1024, toc.length);
            byte[] digest = Digester.sha256().digest(toc);
            assertArrayEquals(new byte[] {79, (byte) 223, (byte) 187, 54}, java.util.Arrays.copyOf(digest, 4));
            try (RafsSuper sb = RafsSuper.openInlined(r, "2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca")) {
                assertEquals(RafsVersion.V6, sb.version());
                assertEquals(1, sb.blobs().size());
                assertTrue(sb.blobs().get(0).blobId().startsWith("d788a0"));
                List<String> names = new ArrayList<>();
                sb.walk(e -> names.add(e.path()));
                assertEquals(List.of("/", "/error.rs", "/lib.rs", "/logger.rs"), names);
            }
        }
    }

    @Test
    void zranBlobMetaCacheFile() throws Exception {
        byte[] file = Files.readAllBytes(
                Fixtures.get("zran/233c72f2b6b698c07021c4da367cfe2dff4f049efbaa885ca0ff760ea297865a.blob.meta"));
        BlobMeta meta = BlobMeta.fromCacheFile(file);
        assertEquals(0xa3, meta.header().entries());
        assertEquals(0x15, meta.header().zranCount());
        assertTrue((meta.header().features() & BlobFeatures.ZRAN) != 0);
        assertTrue(meta.table(0).isV2());
        assertEquals(0xa0348, meta.header().zranSize());
        assertArrayEquals(file, meta.toCacheFile());
    }

    @Test
    void legacyDaemonTestBootstrapOpens() throws Exception {
        try (RafsSuper sb = RafsSuper.open(Fixtures.get("bootstrap/nydusd_daemon_test_bootstrap"))) {
            assertEquals(RafsVersion.V5, sb.version());
            assertEquals(1, sb.blobs().size());
            assertTrue(sb.blobs().get(0).hasFeature(BlobFeatures.V5_NO_EXT_BLOB_TABLE));
            assertNotNull(sb.inode(sb.rootIno()));
            assertFalse(sb.blobs().get(0).blobId().isEmpty());
        }
    }
}
