package io.nydus.nydusify;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.blobcache.registry.StreamedUpload;
import io.nydus.nydusify.oci.Descriptor;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;

/**
 * Where images are read from and written to: a registry repository or an OCI image layout. Blobs and manifests are
 * content-addressed; only {@link #tag} makes an image visible under a name, so a writer calls it last, after every
 * blob and manifest it refers to is in place. Implementations are safe for concurrent blob reads and writes.
 */
public interface ImageStore extends Closeable {

    /** Names the store in messages: "registry 127.0.0.1:5000 repo app" or "oci layout /path". */
    String describe();

    /** A manifest or index by tag or digest; a missing one fails with a one-line error naming it. */
    Manifest manifest(String reference) throws IOException;

    /** Streams a blob; reading it to EOF verifies its size and digest. */
    InputStream openBlob(Descriptor blob) throws IOException;

    long blobSize(String digest) throws IOException;

    boolean hasBlob(String digest) throws IOException;

    /** How a blob got into the store. */
    enum PushOutcome { UPLOADED, MOUNTED }

    /**
     * Stores a blob. When {@code from} is a repository of the same registry the blob is mounted from it instead of
     * uploaded, where the registry allows.
     */
    PushOutcome pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException;

    /**
     * Starts storing a blob while it is produced, from {@code body}; null when this store takes blobs whole. The
     * blob's digest is named at the end ({@link StreamedUpload#finish}).
     */
    default StreamedUpload startStreamedUpload(Flow.Publisher<ByteBuffer> body) throws IOException {
        return null;
    }

    /** Stores a manifest or index under its digest only (no tag). */
    void pushManifest(String mediaType, byte[] bytes) throws IOException;

    /** Points {@code tag} at the manifest or index {@code bytes} (pushing it if needed); null tag = untagged. */
    void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException;

    /** Chunk reads for nydus images (blob id = hex digest). */
    BlobBackend backend() throws IOException;

    /** Makes written content durable where a last step is needed (an OCI archive file); no-op otherwise. */
    default void commit() throws IOException {
    }

    @Override
    void close() throws IOException;
}
