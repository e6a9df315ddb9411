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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * Cuts file contents into chunks and gets them into the blob: a bounded pool of workers digests, checksums
 * (CRC32C) and compresses chunks in parallel; one writer thread takes the results in source order, drops
 * duplicates (within the blob, or already present in a chunk dict) and appends the rest to the blob.
 *
 * <p>Memory stays bounded: at most {@code 2 * threads} chunks are in flight, each in a pooled buffer.
 */
final class ChunkPipeline implements AutoCloseable {
    private final BlobWriter blob;
    private final ChunkDict dict;
    private final Compressor compressor;
    private final Digester digester;
    private final int chunkSize;
    private final ExecutorService workers;
    private final BlockingQueue<Future<Cut>> inOrder;
    private final BlockingQueue<byte[]> buffers;
    private final Thread writer;
    private final Map<DigestKey, ChunkInfo> written = new HashMap<>();
    /** Digests already seen, so workers can skip compressing duplicates (a hint; the writer decides). */
    private final Set<DigestKey> seen = ConcurrentHashMap.newKeySet();
    private volatile Throwable failure;
    private long dedupedChunks;
    private long dedupedBytes;
    private static final Future<Cut> END = new java.util.concurrent.CompletableFuture<>();

    /** One chunk on its way through the pipeline. */
    private record Cut(TreeInode inode, int index, long fileOffset, byte[] buffer, int length, byte[] digest, int crc,
            boolean compressionTried, byte[] compressed) {
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
        this.inOrder = new ArrayBlockingQueue<>(2 * threads);
        this.buffers = new ArrayBlockingQueue<>(3 * threads + 2);
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
            byte[] buf = buffer();
            int n;
            try {
                n = content.readNBytes(buf, 0, len);
            } catch (IOException e) {
                buffers.offer(buf);
                throw new SourceReadException(e);
            }
            if (n != len) {
                buffers.offer(buf);
                throw new SourceReadException(new IOException("file data ended after " + (off + n) + " of " + size
                        + " bytes"));
            }
            submit(new Cut(inode, i, off, buf, len, null, 0, false, null));
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

    private void submit(Cut cut) throws IOException {
        Future<Cut> f = workers.submit(() -> process(cut));
        try {
            while (!inOrder.offer(f, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                checkFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private Cut process(Cut c) {
        byte[] digest = digester.digest(c.buffer, 0, c.length);
        CRC32C crc = new CRC32C();
        crc.update(c.buffer, 0, c.length);
        DigestKey key = new DigestKey(digest);
        // A chunk whose digest was seen before will most likely be deduplicated: don't spend time compressing it
        // here; the writer compresses it if it turns out to be the copy that gets stored.
        boolean tried = seen.add(key) && (dict == null || !dict.contains(digest));
        byte[] compressed = tried ? compressor.compress(c.buffer, 0, c.length) : null;
        return new Cut(c.inode, c.index, c.fileOffset, c.buffer, c.length, digest, (int) crc.getValue(), tried,
                compressed);
    }

    private void writeLoop() {
        try {
            while (true) {
                Future<Cut> f = inOrder.take();
                if (f == END) {
                    return;
                }
                Cut c = f.get();
                DigestKey key = new DigestKey(c.digest);
                ChunkInfo stored = written.get(key);
                if (stored == null && dict != null) {
                    stored = dict.find(c.digest);
                }
                if (stored == null) {
                    byte[] compressed = c.compressionTried ? c.compressed : compressor.compress(c.buffer, 0, c.length);
                    stored = blob.append(c.digest, c.crc, c.buffer, c.length, compressed);
                    written.put(key, stored);
                } else {
                    dedupedChunks++;
                    dedupedBytes += c.length;
                }
                c.inode.chunks.set(c.index, stored.atFileOffset(c.fileOffset));
                buffers.offer(c.buffer);
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
