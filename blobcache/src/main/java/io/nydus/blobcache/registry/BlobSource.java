package io.nydus.blobcache.registry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The bytes of a blob to push: opened again for every attempt, so an upload can be retried. */
public interface BlobSource {

    long size();

    InputStream open() throws IOException;

    static BlobSource ofFile(Path file) throws IOException {
        long size = Files.size(file);
        return new BlobSource() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public InputStream open() throws IOException {
                return Files.newInputStream(file);
            }
        };
    }

    static BlobSource ofBytes(byte[] bytes) {
        byte[] copy = bytes.clone();
        return new BlobSource() {
            @Override
            public long size() {
                return copy.length;
            }

            @Override
            public InputStream open() {
                return new ByteArrayInputStream(copy);
            }
        };
    }

    /** A source of known size whose stream comes from {@code opener} (called once per attempt). */
    static BlobSource of(long size, Opener opener) {
        return new BlobSource() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public InputStream open() throws IOException {
                return opener.open();
            }
        };
    }

    interface Opener {
        InputStream open() throws IOException;
    }
}
