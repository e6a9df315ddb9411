package io.nydus.blobcache.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * A blob upload whose bytes go to the registry while they are produced ({@link RegistryClient#startStreamedUpload}).
 * Its digest is known only at the end: {@link #finish} names it, and the registry checks the bytes against it.
 */
public final class StreamedUpload {
    private final RegistryClient client;
    private final String repo;
    private final URI session;
    private final CompletableFuture<URI> sent;

    StreamedUpload(RegistryClient client, String repo, URI session, CompletableFuture<URI> sent) {
        this.client = client;
        this.repo = repo;
        this.session = session;
        this.sent = sent;
    }

    /** Completes when the registry has taken every byte; fails when the transfer failed. */
    public CompletionStage<?> sent() {
        return sent.minimalCompletionStage();
    }

    /** Waits until every byte is sent, then makes them the blob {@code digest}. */
    public void finish(String digest) throws IOException {
        URI next;
        try {
            next = sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("streamed upload of " + digest + ": interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(c.getMessage(), c);
        }
        client.commitUpload(repo, digest, next);
    }

    /** Abandons the upload and deletes its session. The body's publisher must have ended (or failed) first. */
    public void cancel() {
        client.cancelUpload(repo, session);
    }
}
