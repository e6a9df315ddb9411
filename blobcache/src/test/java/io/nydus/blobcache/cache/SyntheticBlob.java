package io.nydus.blobcache.cache;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.blob.CiHeader;
import io.nydus.rafs.blob.CiTable;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.rafs.blob.TocEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A data blob made up for a test, written to a directory under its id (sha256 of its bytes), with the chunk infos a
 * bootstrap would give for it.
 *
 * <ul>
 * <li>{@link Layout#V6_TOC}: chunks, {@code image.blob} tar header, ci table + 4096-byte {@link CiHeader},
 *     {@code blob.meta} header, digest array, {@code blob.digest} header, TOC, {@code rafs.blob.toc} header
 *     (what {@code nydus-image create --blob-inline-meta --features blob-toc} writes without the bootstrap); chunk
 *     infos are unresolved (no compressed extent, no digest) as for chunks missing from a v6 chunk table.</li>
 * <li>{@link Layout#V6_PLAIN}: chunks then ci table + header, no digests in the blob; chunk infos unresolved.</li>
 * <li>{@link Layout#V5}: chunks only; chunk infos complete (v5 inodes carry everything).</li>
 * <li>{@link Layout#V5_NO_CHUNK_COUNT}: as V5, blob table without chunk count (no extended blob table).</li>
 * </ul>
 */
final class SyntheticBlob {
    enum Layout { V6_TOC, V6_PLAIN, V5, V5_NO_CHUNK_COUNT }

    final Layout layout;
    final String blobId;
    final Path file;
    final BlobInfo info;
    final Compressor compressor;
    final Digester digester;
    /** Uncompressed chunk data, by chunk index. */
    final List<byte[]> data;
    /** Complete chunk infos (extent and digest), by chunk index. */
    final List<ChunkInfo> full;
    /** What a bootstrap gives: unresolved for v6, complete for v5. */
    final List<ChunkInfo> chunks;

    private SyntheticBlob(Layout layout, String blobId, Path file, BlobInfo info, Compressor compressor,
            Digester digester, List<byte[]> data, List<ChunkInfo> full, List<ChunkInfo> chunks) {
        this.layout = layout;
        this.blobId = blobId;
        this.file = file;
        this.info = info;
        this.compressor = compressor;
        this.digester = digester;
        this.data = data;
        this.full = full;
        this.chunks = chunks;
    }

    /** Random chunks: about half random bytes, half compressible text; the last one short. */
    static List<byte[]> randomChunks(Random rnd, int count, int chunkSize) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int size = i == count - 1 ? 1 + rnd.nextInt(chunkSize) : chunkSize;
            byte[] b = new byte[size];
            if (rnd.nextBoolean()) {
                rnd.nextBytes(b);
            } else {
                byte[] word = ("chunk " + i + " of a compressible file; ").getBytes();
                for (int j = 0; j < size; j++) {
                    b[j] = word[j % word.length];
                }
                b[rnd.nextInt(size)] = (byte) rnd.nextInt();
            }
            out.add(b);
        }
        return out;
    }

    static SyntheticBlob create(Path dir, Layout layout, List<byte[]> data, int chunkSize, Compressor compressor,
            Digester digester) throws IOException {
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        List<ChunkInfo> full = new ArrayList<>();
        boolean v6 = layout == Layout.V6_TOC || layout == Layout.V6_PLAIN;
        long uoff = 0;
        for (int i = 0; i < data.size(); i++) {
            byte[] d = data.get(i);
            byte[] c = compressor.compress(d, 0, d.length);
            byte[] stored = c != null ? c : d;
            long coff = blob.size();
            blob.write(stored);
            full.add(new ChunkInfo(digester.digest(d), 0, c != null ? ChunkInfo.FLAG_COMPRESSED : 0, coff,
                    stored.length, uoff, d.length, (long) i * chunkSize, i, 0));
            uoff += d.length;
            if (v6) {
                uoff = (uoff + 4095) & ~4095L;
            }
        }
        long chunkDataEnd = blob.size();
        BlobInfo.Builder bi = BlobInfo.builder().index(0).chunkSize(chunkSize).chunkCount(data.size())
                .compressor(compressor).digester(digester).uncompressedSize(uoff);
        if (layout == Layout.V5_NO_CHUNK_COUNT) {
            bi.chunkCount(0).features(BlobFeatures.V5_NO_EXT_BLOB_TABLE);
        }
        if (v6) {
            boolean toc = layout == Layout.V6_TOC;
            if (toc) {
                blob.write(TarHeader.encode(TarHeader.IMAGE_BLOB, chunkDataEnd));
            }
            ByteBuffer ci = ByteBuffer.allocate(data.size() * CiTable.V1_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            for (ChunkInfo c : full) {
                CiTable.writeV1(ci, c.uncompressedOffset(), c.uncompressedSize(), c.compressedOffset(),
                        c.compressedSize());
            }
            byte[] ciRaw = ci.array();
            byte[] ciPacked = compressor.compress(ciRaw, 0, ciRaw.length);
            Compressor ciCompressor = ciPacked != null ? compressor : Compressor.NONE;
            byte[] ciStored = ciPacked != null ? ciPacked : ciRaw;
            long ciOffset = blob.size();
            int features = toc ? BlobFeatures.ALIGNED | BlobFeatures.INLINED_CHUNK_DIGEST | BlobFeatures.HAS_TAR_HEADER
                    | BlobFeatures.HAS_TOC : BlobFeatures.ALIGNED;
            CiHeader header = new CiHeader(features & 0xFFFF, ciCompressor, data.size(), ciOffset, ciStored.length,
                    ciRaw.length, 0, 0, 0);
            byte[] headerBytes = header.encode();
            blob.write(ciStored);
            blob.write(headerBytes);
            bi.features(features).ciCompressor(ciCompressor).ciOffset(ciOffset).ciCompressedSize(ciStored.length)
                    .ciUncompressedSize(ciRaw.length);
            if (toc) {
                blob.write(TarHeader.encode(TarHeader.BLOB_META, ciStored.length + CiHeader.SIZE));
                ByteArrayOutputStream digests = new ByteArrayOutputStream();
                for (ChunkInfo c : full) {
                    digests.write(c.digest());
                }
                byte[] digestArray = digests.toByteArray();
                long digestOffset = blob.size();
                blob.write(digestArray);
                blob.write(TarHeader.encode(TarHeader.BLOB_DIGEST, digestArray.length));
                ByteBuffer entries = ByteBuffer.allocate(4 * TocEntry.SIZE).order(ByteOrder.LITTLE_ENDIAN);
                byte[] chunkArea = Arrays.copyOf(blob.toByteArray(), (int) chunkDataEnd + TarHeader.SIZE);
                new TocEntry(Compressor.NONE.tocFlag(), TarHeader.IMAGE_BLOB, sha256(chunkArea), 0, chunkDataEnd,
                        chunkDataEnd).write(entries);
                new TocEntry(ciCompressor.tocFlag(), TarHeader.BLOB_META, sha256(ciRaw), ciOffset, ciStored.length,
                        ciRaw.length).write(entries);
                new TocEntry(Compressor.NONE.tocFlag(), TarHeader.BLOB_META_HEADER, sha256(headerBytes),
                        ciOffset + ciStored.length, CiHeader.SIZE, CiHeader.SIZE).write(entries);
                new TocEntry(Compressor.NONE.tocFlag(), TarHeader.BLOB_DIGEST, sha256(digestArray), digestOffset,
                        digestArray.length, digestArray.length).write(entries);
                byte[] tocHeader = TarHeader.encode(TarHeader.BLOB_TOC, entries.capacity());
                blob.write(entries.array());
                blob.write(tocHeader);
                byte[] rawToc = new byte[entries.capacity() + TarHeader.SIZE];
                System.arraycopy(entries.array(), 0, rawToc, 0, entries.capacity());
                System.arraycopy(tocHeader, 0, rawToc, entries.capacity(), TarHeader.SIZE);
                bi.tocSize(rawToc.length).tocDigest(sha256(rawToc));
            }
        }
        byte[] bytes = blob.toByteArray();
        String id = HexFormat.of().formatHex(sha256(bytes));
        Files.createDirectories(dir);
        Path file = dir.resolve(id);
        Files.write(file, bytes);
        BlobInfo info = bi.blobId(id).compressedSize(bytes.length).build();
        List<ChunkInfo> given = new ArrayList<>();
        for (ChunkInfo c : full) {
            given.add(v6 ? new ChunkInfo(null, 0, 0, -1, 0, c.uncompressedOffset(), c.uncompressedSize(),
                    c.fileOffset(), c.index(), 0) : c);
        }
        return new SyntheticBlob(layout, id, file, info, compressor, digester, data, full, given);
    }

    static SyntheticBlob random(Path dir, Layout layout, long seed, int count, int chunkSize, Compressor compressor,
            Digester digester) throws IOException {
        return create(dir, layout, randomChunks(new Random(seed), count, chunkSize), chunkSize, compressor, digester);
    }

    static byte[] sha256(byte[] b) {
        return Digester.sha256().digest(b);
    }

    @Override
    public String toString() {
        return layout + "/" + compressor.cliName() + "/" + digester.cliName() + " " + data.size() + " chunks";
    }
}
