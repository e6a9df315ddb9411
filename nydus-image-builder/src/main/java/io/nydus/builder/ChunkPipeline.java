package io.nydus.builder;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.tree.TreeInode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Cuts file contents into chunks and gets them into the blob: a bounded pool of workers digests, checksums
 * (CRC32C) and compresses chunks in parallel; one writer thread takes the results in source order, drops
 * duplicates (within the blob, or already present in a chunk dict) and appends the rest to the blob.
 *
 * <p>Work travels in batches: a large chunk alone, small files' chunks packed together into one buffer, so that a
 * layer of thousands of small files does not pay three thread hand-offs per file (which, measured, left the cores
 * idle). Memory stays bounded: at most {@link #inFlight} batches are in flight, each in a pooled buffer of one
 * chunk size.
 */
final class ChunkPipeline implements AutoCloseable {
    /** Chunks up to this size share a batch; larger ones travel alone. */
    private static final int SMALL = 128 << 10;
    private static final int MAX_PIECES = 512;

    /**
     * Batches in flight: two per worker, and at least 8. On 2 cores the tar reader, the gunzip thread and the JIT
     * share the cores with the workers; with 4 batches the reader waited for a free slot for a third of a conversion
     * (wall profile), and with 8 the Debian conversion measured 1.5-5% faster (three interleaved A/B runs).
     */
    static int inFlight(int threads) {
        return Math.max(2 * threads, 8);
    }

    private final BlobWriter blob;
    private final ChunkDict dict;
    private final Compressor compressor;
    private final Digester digester;
    private final int chunkSize;
    private final ExecutorService workers;
    private final BlockingQueue<Future<Batch>> inOrder;
    private final BlockingQueue<byte[]> buffers;
    private final Thread writer;
    private final Map<DigestKey, ChunkInfo> written = new HashMap<>();
    /** Digests already seen, so workers can skip compressing duplicates (a hint; the writer decides). */
    private final Set<DigestKey> seen = ConcurrentHashMap.newKeySet();
    private volatile Throwable failure;
    private Batch open;
    private long dedupedChunks;
    private long dedupedBytes;
    private static final Future<Batch> END = new CompletableFuture<>();

    /** One chunk of a file, somewhere in its batch's buffer. */
    private static final class Piece {
        final TreeInode inode;
        final int index;
        final long fileOffset;
        final int offset;
        final int length;
        byte[] digest;
        int crc;
        boolean compressionTried;
        byte[] compressed;

        Piece(TreeInode inode, int index, long fileOffset, int offset, int length) {
            this.inode = inode;
            this.index = index;
            this.fileOffset = fileOffset;
            this.offset = offset;
            this.length = length;
        }
    }

    /** Chunks that travel through the pipeline together, sharing one pooled buffer. */
    private static final class Batch {
        final byte[] buffer;
        final List<Piece> pieces = new ArrayList<>();
        int used;

        Batch(byte[] buffer) {
            this.buffer = buffer;
        }
    }

    ChunkPipeline(BlobWriter blob, ChunkDict dict, Compressor compressor, Digester digester, int chunkSize, int threads) {
        this.blob = blob;
        this.dict = dict;
        this.compressor = compressor;
        this.digester = digester;
        this.chunkSize = chunkSize;
        this.workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "chunk-worker");
            t.setDaemon(true);
            return t;
        });
        this.inOrder = new ArrayBlockingQueue<>(inFlight(threads));
        this.buffers = new ArrayBlockingQueue<>(inFlight(threads) + threads + 3);
        this.writer = new Thread(this::writeLoop, "blob-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Reads exactly {@code size} bytes of a regular file from {@code content} and arranges for its chunks to be
     * stored; {@code inode.chunks} is filled in by the writer.
     */
    void addFile(TreeInode inode, InputStream content, long size) throws IOException {
        long count = (size + chunkSize - 1) / chunkSize;
        inode.size = size;
        inode.chunks = new ArrayList<>(Collections.nCopies((int) count, (ChunkInfo) null));
        long off = 0;
        for (int i = 0; i < count; i++) {
            int len = (int) Math.min(chunkSize, size - off);
            Batch b;
            if (len <= SMALL && len <= chunkSize / 2) {
                if (open != null && (open.used + len > open.buffer.length || open.pieces.size() >= MAX_PIECES)) {
                    submit(open);
                    open = null;
                }
                if (open == null) {
                    open = new Batch(buffer());
                }
                b = open;
            } else {
                if (open != null) {
                    submit(open);
                    open = null;
                }
                b = new Batch(buffer());
            }
            int at = b.used;
            int n;
            try {
                n = content.readNBytes(b.buffer, at, len);
            } catch (IOException e) {
                throw new SourceReadException(e);
            }
            if (n != len) {
                throw new SourceReadException(new IOException("file data ended after " + (off + n) + " of " + size
                        + " bytes"));
            }
            b.pieces.add(new Piece(inode, i, off, at, len));
            b.used += len;
            if (b != open) {
                submit(b);
            }
            off += len;
        }
    }

    /** Reading the source failed (as opposed to writing the blob): the caller names the entry. */
    static final class SourceReadException extends IOException {
        private static final long serialVersionUID = 1L;

        SourceReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private byte[] buffer() throws IOException {
        checkFailure();
        byte[] b = buffers.poll();
        return b != null ? b : new byte[chunkSize];
    }

    private void submit(Batch batch) throws IOException {
        Future<Batch> f = workers.submit(() -> process(batch));
        try {
            while (!inOrder.offer(f, 100, TimeUnit.MILLISECONDS)) {
                checkFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private Batch process(Batch b) {
        CRC32C crc = new CRC32C();
        for (Piece p : b.pieces) {
            p.digest = digester.digest(b.buffer, p.offset, p.length);
            crc.reset();
            crc.update(b.buffer, p.offset, p.length);
            p.crc = (int) crc.getValue();
            // A chunk whose digest was seen before will most likely be deduplicated: don't spend time compressing
            // it here; the writer compresses it if it turns out to be the copy that gets stored.
            p.compressionTried = seen.add(new DigestKey(p.digest)) && (dict == null || !dict.contains(p.digest));
            p.compressed = p.compressionTried ? compressor.compress(b.buffer, p.offset, p.length) : null;
        }
        return b;
    }

    private void writeLoop() {
        try {
            while (true) {
                Future<Batch> f = inOrder.take();
                if (f == END) {
                    return;
                }
                Batch b = f.get();
                for (Piece p : b.pieces) {
                    DigestKey key = new DigestKey(p.digest);
                    ChunkInfo stored = written.get(key);
                    if (stored == null && dict != null) {
                        stored = dict.find(p.digest);
                    }
                    if (stored == null) {
                        byte[] compressed = p.compressionTried ? p.compressed
                                : compressor.compress(b.buffer, p.offset, p.length);
                        stored = blob.append(p.digest, p.crc, b.buffer, p.offset, p.length, compressed);
                        written.put(key, stored);
                    } else {
                        dedupedChunks++;
                        dedupedBytes += p.length;
                    }
                    p.inode.chunks.set(p.index, stored.atFileOffset(p.fileOffset));
                }
                buffers.offer(b.buffer);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void checkFailure() throws IOException {
        Throwable t = failure;
        if (t != null) {
            throw t instanceof IOException io ? io : new IOException(t.getMessage(), t);
        }
    }

    /** Waits until every chunk is written. */
    void finish() throws IOException {
        if (open != null) {
            submit(open);
            open = null;
        }
        try {
            inOrder.put(END);
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        checkFailure();
    }

    long dedupedChunks() {
        return dedupedChunks;
    }

    long dedupedBytes() {
        return dedupedBytes;
    }

    @Override
    public void close() {
        workers.shutdownNow();
        writer.interrupt();
    }
}
