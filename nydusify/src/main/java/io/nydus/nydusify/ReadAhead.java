package io.nydus.nydusify;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream on a thread of its own, a few blocks ahead of the consumer: the network read and decompression of
 * a layer run beside the builder's tar parsing instead of before it. Errors of the source reach the consumer where
 * it would have met them.
 */
final class ReadAhead extends InputStream {
    private static final byte[] EOF = new byte[0];

    private final InputStream source;
    private final BlockingQueue<Object> blocks;
    /** Blocks the consumer is done with, for the producer to fill again (a layer is ~200 of them otherwise). */
    private final BlockingQueue<byte[]> free;
    private final Thread producer;
    private byte[] current;
    private int pos;
    private int limit;
    private boolean done;
    private volatile boolean abandoned;

    ReadAhead(InputStream source, int blockSize, int depth, String name) {
        this.source = source;
        this.blocks = new ArrayBlockingQueue<>(depth);
        this.free = new ArrayBlockingQueue<>(depth + 2);
        this.producer = new Thread(() -> produce(blockSize), name);
        producer.setDaemon(true);
        producer.start();
    }

    private void produce(int blockSize) {
        try {
            while (true) {
                byte[] b = free.poll();
                if (b == null) {
                    b = new byte[blockSize];
                }
                int n = source.readNBytes(b, 0, blockSize);
                if (n > 0 && !abandoned) {
                    put(new Chunk(b, n));
                }
                if (n < blockSize) {
                    put(EOF);
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            try {
                put(e);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void put(Object o) throws InterruptedException {
        while (!abandoned && !blocks.offer(o, 50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            // the consumer is busy: wait, unless it gave up
        }
    }

    private record Chunk(byte[] data, int length) {
    }

    /**
     * The consumer gives up: the producer reads on to the end of the source (or its first error) without handing
     * anything over, and this returns when it has stopped. Afterwards the source may be read by the caller.
     */
    void abandon() {
        abandoned = true;
        blocks.clear();
        try {
            producer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            producer.interrupt();
        }
    }

    private boolean fill() throws IOException {
        if (done) {
            return false;
        }
        Object o;
        try {
            o = blocks.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
        if (o == EOF) {
            done = true;
            return false;
        }
        if (o instanceof IOException e) {
            done = true;
            throw e;
        }
        if (o instanceof RuntimeException e) {
            done = true;
            throw e;
        }
        Chunk c = (Chunk) o;
        if (current != null) {
            free.offer(current); // read to its end
        }
        current = c.data;
        pos = 0;
        limit = c.length;
        return true;
    }

    @Override
    public int read() throws IOException {
        if (pos >= limit && !fill()) {
            return -1;
        }
        return current[pos++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos >= limit && !fill()) {
            return -1;
        }
        int n = Math.min(len, limit - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return limit - pos;
    }

    @Override
    public void close() throws IOException {
        producer.interrupt();
        source.close();
    }
}
