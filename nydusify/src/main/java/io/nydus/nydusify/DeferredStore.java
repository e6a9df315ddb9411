package io.nydus.nydusify;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.blobcache.registry.StreamedUpload;
import io.nydus.nydusify.oci.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;

/** A store opened on a background thread; calls wait for it. Its opening error is reported at the first call. */
final class DeferredStore implements ImageStore {
    /** Opens a store. */
    interface Opener {
        ImageStore open() throws IOException;
    }

    private final String name;
    private final CompletableFuture<ImageStore> store = new CompletableFuture<>();

    DeferredStore(String name, Opener opener) {
        this.name = name;
        Thread t = new Thread(() -> {
            try {
                store.complete(opener.open());
            } catch (IOException | RuntimeException e) {
                store.completeExceptionally(e);
            }
        }, "nydusify-open-store");
        t.setDaemon(true);
        t.start();
    }

    private ImageStore get() throws IOException {
        try {
            return store.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            throw new NydusifyException(name + ": " + c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while opening " + name);
        }
    }

    @Override
    public String describe() {
        try {
            return get().describe();
        } catch (IOException e) {
            return name;
        }
    }

    @Override
    public Manifest manifest(String reference) throws IOException {
        return get().manifest(reference);
    }

    @Override
    public InputStream openBlob(Descriptor blob) throws IOException {
        return get().openBlob(blob);
    }

    @Override
    public long blobSize(String digest) throws IOException {
        return get().blobSize(digest);
    }

    @Override
    public boolean hasBlob(String digest) throws IOException {
        return get().hasBlob(digest);
    }

    @Override
    public PushOutcome pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException {
        return get().pushBlob(blob, source, from);
    }

    @Override
    public StreamedUpload startStreamedUpload(Flow.Publisher<ByteBuffer> body) throws IOException {
        return get().startStreamedUpload(body);
    }

    @Override
    public void pushManifest(String mediaType, byte[] bytes) throws IOException {
        get().pushManifest(mediaType, bytes);
    }

    @Override
    public void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException {
        get().tag(tag, manifest, bytes);
    }

    @Override
    public BlobBackend backend() throws IOException {
        return get().backend();
    }

    @Override
    public void commit() throws IOException {
        get().commit();
    }

    @Override
    public void close() throws IOException {
        try {
            get().close();
        } catch (IOException e) {
            // nothing was opened
        }
    }
}
