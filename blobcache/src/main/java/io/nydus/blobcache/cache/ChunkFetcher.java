package io.nydus.blobcache.cache;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsFormatException;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Fetches runs of claimed chunks from the backend in one range request, then decompresses, verifies and stores
 * each chunk in the blob's cache file. A chunk that fails verification is fetched once more on its own; if it
 * fails again its claim fails with an IOException and it is not marked ready.
 */
final class ChunkFetcher {
    /** Bytes between two chunks of a run that may be read and thrown away rather than split the request. */
    static final int MAX_GAP = 64 << 10;

    private final BlobBackend backend;

    ChunkFetcher(BlobBackend backend) {
        this.backend = backend;
    }

    /** A chunk claimed in a blob's {@link InflightFetches}, with its compressed extent and (if known) digest. */
    record Claim(ChunkInfo chunk, InflightFetches.Fetch fetch) {
    }

    /** Outcome of checking bytes against what the metadata says about them. */
    enum Check {
        /** Matches the chunk digest. */
        VERIFIED,
        /** No digest to compare with (a CRC, when present, matched). */
        UNCHECKED,
        MISMATCH
    }

    /**
     * Fetches the claimed chunks of one blob, sorted by compressed offset, in one backend request, and stores them.
     * Never throws: every claim is completed or failed, and released.
     *
     * @return compressed bytes read from the backend
     */
    long fetchRun(CachedBlob blob, List<Claim> run, ReadPriority priority) {
        ChunkInfo first = run.get(0).chunk();
        ChunkInfo last = run.get(run.size() - 1).chunk();
        long start = first.compressedOffset();
        long end = last.compressedOffset() + last.compressedSize();
        byte[] buf;
        try {
            if (end - start > Integer.MAX_VALUE - 16) {
                throw new IOException("blob " + blob.blobId() + " chunks " + first.index() + ".." + last.index()
                        + ": run of " + (end - start) + " bytes at offset " + start + " is too large");
            }
            buf = new byte[(int) (end - start)];
            backend.read(blob.blobId(), start, buf, 0, buf.length, priority);
        } catch (IOException | RuntimeException e) {
            String what = run.size() == 1 ? "chunk " + first.index() : "chunks " + first.index() + ".." + last.index();
            IOException io = new IOException("blob " + blob.blobId() + " " + what + ": " + (end - start)
                    + " bytes at offset " + start + ": " + e.getMessage(), e);
            for (Claim c : run) {
                blob.inflight.fail(c.fetch(), io);
            }
            return 0;
        }
        for (Claim c : run) {
            try {
                store(blob, c.chunk(), buf, (int) (c.chunk().compressedOffset() - start), priority, true);
                blob.inflight.complete(c.fetch());
            } catch (IOException | RuntimeException e) {
                blob.inflight.fail(c.fetch(), e instanceof IOException x ? x : new IOException(e.toString(), e));
            }
        }
        return buf.length;
    }

    private void store(CachedBlob blob, ChunkInfo c, byte[] buf, int off, ReadPriority priority, boolean mayRefetch)
            throws IOException {
        byte[] data;
        int dataOff;
        Check check;
        try {
            if (c.isCompressed()) {
                data = new byte[c.uncompressedSize()];
                dataOff = 0;
                blob.info.compressor().decompress(buf, off, c.compressedSize(), data, 0, c.uncompressedSize());
            } else {
                if (c.compressedSize() != c.uncompressedSize()) {
                    throw new RafsFormatException("raw chunk of " + c.compressedSize() + " bytes, expected "
                            + c.uncompressedSize());
                }
                data = buf;
                dataOff = off;
            }
            check = check(blob, c, data, dataOff);
        } catch (RafsFormatException e) {
            if (!mayRefetch) {
                throw new IOException("blob " + blob.blobId() + " chunk " + c.index() + " at offset "
                        + c.compressedOffset() + ": " + e.getMessage() + " (after a second fetch)", e);
            }
            check = Check.MISMATCH;
            data = null;
            dataOff = 0;
        }
        if (check == Check.MISMATCH) {
            if (!mayRefetch) {
                throw new IOException("blob " + blob.blobId() + " chunk " + c.index() + " at offset "
                        + c.compressedOffset() + ": digest mismatch after a second fetch");
            }
            byte[] again = new byte[c.compressedSize()];
            backend.read(blob.blobId(), c.compressedOffset(), again, 0, again.length, priority);
            store(blob, c, again, 0, priority, false);
            return;
        }
        blob.store(c, data, dataOff, check == Check.VERIFIED);
    }

    /** Compares bytes with the chunk's digest (and CRC32C when recorded), using the blob's digester. */
    Check check(CachedBlob blob, ChunkInfo c, byte[] data, int off) {
        int len = c.uncompressedSize();
        if (c.hasCrc32()) {
            CRC32C crc = new CRC32C();
            crc.update(data, off, len);
            if ((int) crc.getValue() != c.crc32()) {
                return Check.MISMATCH;
            }
        }
        if (c.digest() == null) {
            return Check.UNCHECKED;
        }
        return Arrays.equals(c.digest(), blob.info.digester().digest(data, off, len)) ? Check.VERIFIED : Check.MISMATCH;
    }
}
