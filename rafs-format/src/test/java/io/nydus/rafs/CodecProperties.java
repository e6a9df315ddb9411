package io.nydus.rafs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.blob.ChunkRecord;
import io.nydus.rafs.blob.CiHeader;
import io.nydus.rafs.blob.CiTable;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.rafs.blob.TocEntry;
import io.nydus.rafs.v5.RafsV5Xattrs;
import io.nydus.rafs.v6.ErofsInode;
import io.nydus.rafs.v6.ErofsXattrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/** Every encoder/decoder pair of the format is an identity. */
class CodecProperties {
    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Property
    void ciTableV1(@ForAll @LongRange(min = 0, max = (1L << 32) - 1) long ublock,
            @ForAll @IntRange(min = 1, max = 1 << 24) int usize, @ForAll @LongRange(min = 0, max = (1L << 40) - 1) long coff,
            @ForAll @IntRange(min = 1, max = 1 << 24) int csize) {
        ByteBuffer b = le(CiTable.V1_SIZE);
        CiTable.writeV1(b, ublock << 12, usize, coff, csize);
        ChunkInfo c = CiTable.of(b.array(), 0, 1, 3).chunk(0);
        assertEquals(ublock << 12, c.uncompressedOffset());
        assertEquals(usize, c.uncompressedSize());
        assertEquals(coff, c.compressedOffset());
        assertEquals(csize, c.compressedSize());
        assertEquals(csize != usize, c.isCompressed());
        assertEquals(3, c.blobIndex());
    }

    @Property
    void ciTableV2(@ForAll @LongRange(min = 0, max = (1L << 32) - 1) long ublock,
            @ForAll @IntRange(min = 1, max = 1 << 24) int usize, @ForAll @LongRange(min = 0, max = (1L << 40) - 1) long coff,
            @ForAll @IntRange(min = 1, max = (1 << 24) - 1) int csize, @ForAll boolean compressed, @ForAll int crc) {
        ByteBuffer b = le(CiTable.V2_SIZE);
        CiTable.writeV2(b, ublock << 12, usize, coff, csize, compressed, crc);
        ChunkInfo c = CiTable.of(b.array(), BlobFeatures.CHUNK_INFO_V2, 1, 0).chunk(0);
        assertEquals(ublock << 12, c.uncompressedOffset());
        assertEquals(usize, c.uncompressedSize());
        assertEquals(coff, c.compressedOffset());
        assertEquals(csize, c.compressedSize());
        assertEquals(compressed, c.isCompressed());
        assertEquals(crc, c.crc32());
    }

    @Property
    void ciHeader(@ForAll int features, @ForAll @IntRange(min = 0) int entries, @ForAll @LongRange(min = 0) long off,
            @ForAll @LongRange(min = 0) long cs, @ForAll @LongRange(min = 0) long us) {
        CiHeader h = new CiHeader(features & BlobFeatures.KNOWN_INCOMPAT | BlobFeatures.CAP_TAR_TOC, Compressor.ZSTD,
                entries, off, cs, us, 0, 0, 0);
        assertEquals(h, CiHeader.decode(h.encode(), 0));
    }

    @Property
    void chunkRecord(@ForAll @Size(32) byte[] digest, @ForAll @IntRange(min = 0, max = 254) int blob, @ForAll int flags,
            @ForAll @IntRange(min = 0, max = 1 << 24) int cs, @ForAll @IntRange(min = 0, max = 1 << 24) int us,
            @ForAll @LongRange(min = 0) long co, @ForAll @LongRange(min = 0) long uo, @ForAll @LongRange(min = 0) long fo,
            @ForAll int index, @ForAll int crc) {
        ChunkInfo c = new ChunkInfo(digest, blob, flags, co, cs, uo, us, fo, index, crc);
        ByteBuffer b = le(ChunkRecord.SIZE);
        ChunkRecord.write(c, b);
        assertEquals(c, ChunkRecord.read(b, 0));
    }

    @Property
    void tarHeader(@ForAll @StringLength(min = 1, max = 99) @net.jqwik.api.constraints.AlphaChars String name,
            @ForAll @LongRange(min = 0, max = 077777777777L) long size) {
        TarHeader.Entry e = TarHeader.decode(TarHeader.encode(name, size), 0);
        assertEquals(new TarHeader.Entry(name, size), e);
    }

    @Property
    void tocEntry(@ForAll("tocNames") String name, @ForAll @Size(32) byte[] digest, @ForAll @LongRange(min = 0) long off,
            @ForAll @LongRange(min = 0) long cs, @ForAll @LongRange(min = 0) long us) {
        TocEntry t = new TocEntry(0x2, name, digest, off, cs, us);
        ByteBuffer b = le(TocEntry.SIZE);
        t.write(b);
        TocEntry r = TocEntry.read(b.array(), 0);
        assertEquals(name, r.name());
        assertArrayEquals(digest, r.digest());
        assertEquals(off, r.compressedOffset());
        assertEquals(cs, r.compressedSize());
        assertEquals(us, r.uncompressedSize());
        assertEquals(Compressor.ZSTD, r.compressor());
    }

    @Provide
    Arbitrary<String> tocNames() {
        return Arbitraries.of(TarHeader.IMAGE_BLOB, TarHeader.IMAGE_BOOT, TarHeader.BLOB_META, TarHeader.BLOB_META_HEADER,
                TarHeader.BLOB_DIGEST);
    }

    @Provide
    Arbitrary<Map<String, byte[]>> xattrs() {
        Arbitrary<String> names = Combinators.combine(
                Arbitraries.of("user.", "trusted.", "security.", "system.posix_acl_access", "system.posix_acl_default"),
                Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(40))
                .as((p, s) -> p.startsWith("system.") ? p : p + s);
        return Arbitraries.maps(names, Arbitraries.bytes().array(byte[].class).ofMaxSize(300)).ofMaxSize(8);
    }

    @Property
    void erofsXattrs(@ForAll("xattrs") Map<String, byte[]> m) {
        Xattrs x = Xattrs.of(new TreeMap<>(m));
        byte[] enc = ErofsXattrs.encode(x);
        int icount = ErofsXattrs.icount(enc.length);
        assertEquals(enc.length, ErofsInode.xattrSize(icount));
        Xattrs back = enc.length == 0 ? Xattrs.EMPTY : ErofsXattrs.decode(ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN), 0, enc.length, 0);
        assertEquals(x, back);
    }

    @Property
    void v5Xattrs(@ForAll("xattrs") Map<String, byte[]> m) {
        Xattrs x = Xattrs.of(new TreeMap<>(m));
        byte[] enc = RafsV5Xattrs.encode(x);
        assertEquals(0, enc.length % 8);
        assertEquals(x, RafsV5Xattrs.decode(ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN), 0));
    }

    @Property
    void erofsInode(@ForAll boolean extended, @ForAll @IntRange(min = 0, max = 0xFFFF) int mode,
            @ForAll @LongRange(min = 0, max = 0xFFFF) long nlink, @ForAll @LongRange(min = 0, max = 0xFFFF_FFFFL) long size,
            @ForAll int iu, @ForAll @LongRange(min = 0, max = 0xFFFF_FFFFL) long ino,
            @ForAll @LongRange(min = 0, max = 0xFFFF) long uid, @ForAll @LongRange(min = 0, max = 0xFFFF) long gid,
            @ForAll @LongRange(min = 0) long mtime, @ForAll @IntRange(min = 0, max = 999_999_999) int nsec) {
        ErofsInode in = new ErofsInode(extended, ErofsInode.LAYOUT_FLAT_INLINE, 0, mode, nlink, size, iu, ino, uid, gid,
                extended ? mtime : 0, extended ? nsec : 0);
        ByteBuffer b = le(64);
        in.write(b, 0);
        assertEquals(in, ErofsInode.read(b, 0, 1));
    }

    @Property(tries = 50)
    void compressors(@ForAll @Size(max = 70000) byte[] data, @ForAll @IntRange(min = 0, max = 3) int repeat) {
        byte[] input = new byte[data.length * (repeat + 1)];
        for (int i = 0; i <= repeat; i++) {
            System.arraycopy(data, 0, input, i * data.length, data.length);
        }
        for (Compressor c : Compressor.values()) {
            byte[] z = c.compress(input, 0, input.length);
            if (z == null) {
                continue; // stored raw: not smaller
            }
            assertEquals(true, z.length < input.length, c.cliName());
            assertArrayEquals(input, c.decompress(z, input.length), c.cliName());
        }
    }
}
