package io.nydus.builder;

import io.nydus.rafs.BlobFeatures;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.blob.CiHeader;
import io.nydus.rafs.blob.CiTable;
import io.nydus.rafs.blob.TarHeader;
import io.nydus.rafs.blob.TocEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes one data blob, sequentially (so it can go to a pipe), in the layout of notes §2.13:
 *
 * <pre>
 * [chunk data: each chunk compressed on its own, concatenated]
 * [tar header "image.blob"]                      with tar headers (inline meta or TOC)
 * [compressed ci table][ci header 4096 B]        v6 only
 * [tar header "blob.meta"]                       with tar headers
 * [chunk digest array][tar header "blob.digest"] with TOC
 * [bootstrap, zstd][tar header "image.boot"]     with inline meta
 * [TOC entries][tar header "rafs.blob.toc"]      with TOC
 * </pre>
 *
 * The blob id is the sha256 of every byte written except the raw digest array (upstream's rule). For v6 with
 * compressor none, chunks are padded so that each chunk's compressed offset equals its uncompressed offset: the
 * blob is then also a valid EROFS device the kernel can mount directly.
 */
final class BlobWriter {
    private static final int BLOCK = 4096;

    private final OutputStream out;
    private final int blobIndex;
    private final Compressor compressor;
    private final Digester digester;
    private final int chunkSize;
    private final boolean v6;
    private final boolean aligned;
    private final boolean padToUncompressed;
    /** Every byte but the chunk digest array: the blob id. */
    private final MessageDigest blobHash = Digester.sha256();
    /**
     * Every byte: the blob's OCI digest. Forked from {@link #blobHash} where the digest array starts, so the chunk
     * data is hashed once.
     */
    private MessageDigest fileHash;
    private byte[] fileSha256;
    private final List<ChunkInfo> chunks = new ArrayList<>();
    private long written;
    private long uncompressedEnd;

    /**
     * @param out     where the blob goes; null to compute chunk placement without writing (chunk-dict only runs)
     * @param aligned place uncompressed offsets on 4 KiB boundaries (always for v6)
     */
    BlobWriter(OutputStream out, int blobIndex, Compressor compressor, Digester digester, int chunkSize, boolean v6,
            boolean aligned) {
        this.out = out;
        this.blobIndex = blobIndex;
        this.compressor = compressor;
        this.digester = digester;
        this.chunkSize = chunkSize;
        this.v6 = v6;
        this.aligned = aligned || v6;
        this.padToUncompressed = v6 && compressor == Compressor.NONE;
    }

    int blobIndex() {
        return blobIndex;
    }

    int chunkCount() {
        return chunks.size();
    }

    /** Bytes written so far. */
    long size() {
        return written;
    }

    /**
     * Appends a new chunk and returns its record (file offset 0).
     *
     * @param compressed the compressed bytes, or null when the chunk is stored raw
     */
    ChunkInfo append(byte[] digest, int crc32, byte[] raw, int rawOff, int rawLen, byte[] compressed)
            throws IOException {
        if (chunks.size() >= (1 << 24)) {
            throw new IOException("blob exceeds 2^24 chunks");
        }
        long uoff = aligned ? align(uncompressedEnd, BLOCK) : uncompressedEnd;
        if (padToUncompressed && written < uoff) {
            writeHashed(new byte[(int) (uoff - written)], (int) (uoff - written));
        }
        long coff = written;
        int flags = ChunkInfo.FLAG_HAS_CRC32;
        int csize;
        if (compressed != null) {
            writeHashed(compressed, compressed.length);
            csize = compressed.length;
            flags |= ChunkInfo.FLAG_COMPRESSED;
        } else {
            writeHashed(raw, rawOff, rawLen);
            csize = rawLen;
        }
        uncompressedEnd = uoff + rawLen;
        ChunkInfo c = new ChunkInfo(digest, blobIndex, flags, coff, csize, uoff, rawLen, 0, chunks.size(), crc32);
        chunks.add(c);
        return c;
    }

    /** What {@link #finishData} produced: the blob table entry so far and the TOC entries written. */
    record DataTail(BlobInfo blob, List<TocEntry> toc, int features) {
    }

    /**
     * Writes everything that follows the chunk data up to (not including) an inlined bootstrap.
     *
     * @param tarHeaders write trailing tar headers (inline meta or TOC)
     * @param toc        write the digest array and, at the end, a TOC
     */
    DataTail finishData(boolean tarHeaders, boolean toc, boolean inlineMeta) throws IOException {
        long dataLen = written;
        List<TocEntry> entries = new ArrayList<>();
        int features = BlobFeatures.CAP_TAR_TOC;
        if (inlineMeta) {
            features |= BlobFeatures.INLINED_FS_META;
        }
        if (tarHeaders) {
            features |= BlobFeatures.HAS_TAR_HEADER;
        }
        if (toc) {
            features |= BlobFeatures.HAS_TOC;
            if (!chunks.isEmpty()) {
                features |= BlobFeatures.INLINED_CHUNK_DIGEST;
            }
        }
        if (v6) {
            features |= BlobFeatures.ALIGNED;
        }
        long uncompressedSize = aligned ? align(uncompressedEnd, BLOCK) : uncompressedEnd;
        if (tarHeaders) {
            byte[] h = TarHeader.encode(TarHeader.IMAGE_BLOB, dataLen);
            writeHashed(h, h.length);
            // Nothing but chunk data and this header has been written: the running hash is the section's digest.
            entries.add(new TocEntry(Compressor.NONE.tocFlag(), TarHeader.IMAGE_BLOB, fork(blobHash).digest(), 0,
                    dataLen, uncompressedSize));
        }
        BlobInfo.Builder info = BlobInfo.builder().index(blobIndex).chunkSize(chunkSize).chunkCount(chunks.size())
                .compressor(compressor).digester(digester).uncompressedSize(uncompressedSize);
        if (v6) {
            ByteBuffer ci = ByteBuffer.allocate(CiTable.V1_SIZE * chunks.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (ChunkInfo c : chunks) {
                CiTable.writeV1(ci, c.uncompressedOffset(), c.uncompressedSize(), c.compressedOffset(), c.compressedSize());
            }
            byte[] ciRaw = ci.array();
            Compressor ciCompressor = compressor;
            byte[] ciStored = ciCompressor.compress(ciRaw, 0, ciRaw.length);
            if (ciStored == null) {
                ciCompressor = Compressor.NONE;
                ciStored = ciRaw;
            }
            long ciOffset = written;
            CiHeader header = new CiHeader(features & ~BlobFeatures.INLINED_FS_META, ciCompressor, chunks.size(),
                    ciOffset, ciStored.length, ciRaw.length, 0, 0, 0);
            byte[] h = header.encode();
            writeHashed(ciStored, ciStored.length);
            writeHashed(h, h.length);
            if (tarHeaders) {
                byte[] th = TarHeader.encode(TarHeader.BLOB_META, ciStored.length + (long) CiHeader.SIZE);
                writeHashed(th, th.length);
            }
            info.ciCompressor(ciCompressor).ciOffset(ciOffset).ciCompressedSize(ciStored.length)
                    .ciUncompressedSize(ciRaw.length);
            entries.add(new TocEntry(ciCompressor.tocFlag(), TarHeader.BLOB_META, sha256(ciRaw), ciOffset,
                    ciStored.length, ciRaw.length));
            entries.add(new TocEntry(Compressor.NONE.tocFlag(), TarHeader.BLOB_META_HEADER, sha256(h),
                    ciOffset + ciStored.length, CiHeader.SIZE, CiHeader.SIZE));
        }
        if (toc) {
            byte[] digests = new byte[Digester.DIGEST_SIZE * chunks.size()];
            for (int i = 0; i < chunks.size(); i++) {
                System.arraycopy(chunks.get(i).digest(), 0, digests, i * Digester.DIGEST_SIZE, Digester.DIGEST_SIZE);
            }
            long off = written;
            // The digest array is the one part of the blob the blob id does not cover.
            writeRaw(digests);
            byte[] th = TarHeader.encode(TarHeader.BLOB_DIGEST, digests.length);
            writeHashed(th, th.length);
            entries.add(new TocEntry(Compressor.NONE.tocFlag(), TarHeader.BLOB_DIGEST, sha256(digests), off,
                    digests.length, digests.length));
        }
        info.features(features).compressedSize(written);
        return new DataTail(info.build(), entries, features);
    }

    /**
     * Appends an inlined bootstrap (zstd unless that does not shrink it) and the TOC, and returns the final blob
     * table entry: id from the running hash (unless {@code blobId} is given), size of the whole blob, TOC size and
     * digest.
     */
    BlobInfo finish(DataTail tail, byte[] bootstrap, boolean toc, String blobId) throws IOException {
        List<TocEntry> entries = new ArrayList<>(tail.toc());
        if (bootstrap != null) {
            byte[] z = Compressor.zstdFrame(bootstrap);
            boolean zstd = z.length < bootstrap.length;
            byte[] stored = zstd ? z : bootstrap;
            long off = written;
            writeHashed(stored, stored.length);
            byte[] th = TarHeader.encode(TarHeader.IMAGE_BOOT, stored.length);
            writeHashed(th, th.length);
            entries.add(new TocEntry((zstd ? Compressor.ZSTD : Compressor.NONE).tocFlag(), TarHeader.IMAGE_BOOT,
                    sha256(bootstrap), off, stored.length, bootstrap.length));
        }
        BlobInfo.Builder b = tail.blob().toBuilder();
        if (toc) {
            ByteBuffer t = ByteBuffer.allocate(TocEntry.SIZE * entries.size() + TarHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            for (TocEntry e : entries) {
                e.write(t);
            }
            t.put(TarHeader.encode(TarHeader.BLOB_TOC, (long) TocEntry.SIZE * entries.size()));
            byte[] raw = t.array();
            writeHashed(raw, raw.length);
            b.tocSize(raw.length).tocDigest(sha256(raw));
        }
        byte[] idHash = blobHash.digest();
        fileSha256 = fileHash != null ? fileHash.digest() : idHash;
        String id = blobId != null ? blobId : HexFormat.of().formatHex(idHash);
        return b.blobId(id).compressedSize(written).build();
    }

    /** The SHA-256 of the whole blob as written (its OCI layer digest); known after {@link #finish}. */
    byte[] fileSha256() {
        return fileSha256;
    }

    private void writeHashed(byte[] b, int len) throws IOException {
        writeHashed(b, 0, len);
    }

    private void writeHashed(byte[] b, int off, int len) throws IOException {
        blobHash.update(b, off, len);
        if (fileHash != null) {
            fileHash.update(b, off, len);
        }
        if (out != null) {
            out.write(b, off, len);
        }
        written += len;
    }

    /** Writes bytes the blob id does not cover (the chunk digest array). */
    private void writeRaw(byte[] b) throws IOException {
        if (fileHash == null) {
            fileHash = fork(blobHash);
        }
        fileHash.update(b);
        if (out != null) {
            out.write(b);
        }
        written += b.length;
    }

    /** A copy of a running hash, to finish without disturbing the original. */
    private static MessageDigest fork(MessageDigest md) {
        try {
            return (MessageDigest) md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 provider without clone support", e);
        }
    }

    private static byte[] sha256(byte[] b) {
        return Digester.sha256().digest(b);
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }
}
