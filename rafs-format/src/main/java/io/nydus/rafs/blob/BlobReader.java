package io.nydus.rafs.blob;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Random read access to a data blob, wherever it lives (a local file here; a registry or cache in blobcache).
 * Implementations must be safe for concurrent use.
 */
public interface BlobReader extends AutoCloseable {

    /** Size of the blob in bytes. */
    long size() throws IOException;

    /** Reads exactly {@code len} bytes at {@code offset}; fails when the blob is shorter. */
    void read(long offset, byte[] dst, int dstOff, int len) throws IOException;

    default byte[] read(long offset, int len) throws IOException {
        byte[] b = new byte[len];
        read(offset, b, 0, len);
        return b;
    }

    @Override
    default void close() throws IOException {
    }

    /** A blob in a local file. */
    static BlobReader ofFile(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        return new BlobReader() {
            @Override
            public long size() throws IOException {
                return ch.size();
            }

            @Override
            public void read(long offset, byte[] dst, int dstOff, int len) throws IOException {
                ByteBuffer bb = ByteBuffer.wrap(dst, dstOff, len);
                long pos = offset;
                while (bb.hasRemaining()) {
                    int n = ch.read(bb, pos);
                    if (n < 0) {
                        throw new java.io.EOFException(path + ": " + len + " bytes at offset " + offset
                                + " reach past the end (" + ch.size() + " bytes)");
                    }
                    pos += n;
                }
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }

            @Override
            public String toString() {
                return path.toString();
            }
        };
    }

    /** A blob held in memory (tests, small blobs). */
    static BlobReader ofBytes(byte[] data) {
        return new BlobReader() {
            @Override
            public long size() {
                return data.length;
            }

            @Override
            public void read(long offset, byte[] dst, int dstOff, int len) throws IOException {
                if (offset < 0 || offset + len > data.length) {
                    throw new java.io.EOFException(len + " bytes at offset " + offset + " reach past the end ("
                            + data.length + " bytes)");
                }
                System.arraycopy(data, (int) offset, dst, dstOff, len);
            }
        };
    }
}
