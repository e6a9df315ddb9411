package io.nydus.nydusify;

import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.RegistryException;
import io.nydus.blobcache.registry.StreamedUpload;
import io.nydus.nydusify.oci.Descriptor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes blobs and manifests to a target store with nydusify's retry policy ({@code --push-retry-count},
 * {@code --push-retry-delay}). Every step is idempotent: a blob the target already has is not stored again, so a
 * retried or repeated push only adds what is missing. (A layer blob streamed to a registry while it was built has
 * been sent by then; it is committed only when the target lacks it.) The tag is written last, by {@link #tag}.
 */
public final class ImagePusher {
    private static final System.Logger LOG = System.getLogger(ImagePusher.class.getName());
    private final ImageStore target;
    private final int retries;
    private final Duration delay;
    private final AtomicLong uploadedBytes = new AtomicLong();
    private final AtomicLong uploadedBlobs = new AtomicLong();
    private final AtomicLong existingBlobs = new AtomicLong();
    private final AtomicLong mountedBlobs = new AtomicLong();
    private final AtomicLong discardedBytes = new AtomicLong();

    public ImagePusher(ImageStore target, int retries, Duration delay) {
        this.target = target;
        this.retries = Math.max(0, retries);
        this.delay = delay;
    }

    /** Ensures the target has {@code blob}; {@code from} is where a cross-repository mount may take it from. */
    public void pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException {
        withRetries("push blob " + blob.digest, () -> {
            if (target.hasBlob(blob.digest)) {
                existingBlobs.incrementAndGet();
                return;
            }
            ImageStore.PushOutcome o = target.pushBlob(blob, source, from);
            if (o == ImageStore.PushOutcome.MOUNTED) {
                mountedBlobs.incrementAndGet();
            } else {
                uploadedBlobs.incrementAndGet();
                uploadedBytes.addAndGet(blob.size);
            }
        });
    }

    /**
     * Starts sending a blob to the target while it is built, where the target takes blobs that way (a registry);
     * null otherwise, or when the upload could not start: the blob is then pushed whole once built.
     */
    StreamedBlob startStreamedBlob() {
        UploadPipe pipe = new UploadPipe();
        try {
            StreamedUpload upload = target.startStreamedUpload(pipe.publisher());
            if (upload == null) {
                pipe.abandon(new IOException("not streamed"));
                return null;
            }
            upload.sent().whenComplete((ok, failure) -> {
                if (failure != null) {
                    pipe.abandon(failure);
                }
            });
            return new StreamedBlob(pipe, upload);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot start a streamed upload ({0}); blobs are pushed once built", e.getMessage());
            pipe.abandon(e);
            return null;
        }
    }

    /**
     * Like {@link #pushBlob(Descriptor, BlobSource, ImageStore)} for a blob that was streamed while it was built:
     * commits the streamed bytes, and pushes {@code source} instead when streaming failed.
     */
    public void pushStreamedBlob(Descriptor blob, BlobSource source, StreamedBlob streamed) throws IOException {
        if (streamed == null || !commitStreamed(blob, streamed)) {
            pushBlob(blob, source, null);
        }
    }

    private boolean commitStreamed(Descriptor blob, StreamedBlob streamed) {
        streamed.pipe().close();
        try {
            if (!streamed.pipe().intact()) {
                throw new IOException("the streamed upload broke off");
            }
            if (target.hasBlob(blob.digest)) {
                streamed.upload().cancel();
                existingBlobs.incrementAndGet();
                discardedBytes.addAndGet(blob.size);
                return true;
            }
            streamed.upload().finish(blob.digest);
            uploadedBlobs.incrementAndGet();
            uploadedBytes.addAndGet(blob.size);
            return true;
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "streamed upload of {0} failed ({1}); pushing it whole", blob.digest, e.getMessage());
            streamed.upload().cancel();
            return false;
        }
    }

    public void pushManifest(String mediaType, byte[] bytes) throws IOException {
        withRetries("push manifest", () -> target.pushManifest(mediaType, bytes));
    }

    /** The last step: makes the image visible under {@code tag}. */
    public void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException {
        withRetries("tag " + tag, () -> target.tag(tag, manifest, bytes));
    }

    public long uploadedBytes() {
        return uploadedBytes.get();
    }

    public long uploadedBlobs() {
        return uploadedBlobs.get();
    }

    public long existingBlobs() {
        return existingBlobs.get();
    }

    public long mountedBlobs() {
        return mountedBlobs.get();
    }

    /** Bytes of blobs streamed while they were built that the target turned out to have already. */
    public long discardedBytes() {
        return discardedBytes.get();
    }

    private interface Step {
        void run() throws IOException;
    }

    private void withRetries(String what, Step step) throws IOException {
        for (int attempt = 0;; attempt++) {
            try {
                step.run();
                return;
            } catch (IOException e) {
                if (attempt >= retries || !transientFailure(e)) {
                    if (attempt > 0) {
                        throw new NydusifyException(e.getMessage() + " (after " + (attempt + 1) + " attempts)", e);
                    }
                    throw e;
                }
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(what + ": interrupted");
                }
            }
        }
    }

    /** Worth another try: no answer, or a server-side failure; not a refusal (auth, bad request, bad digest). */
    static boolean transientFailure(IOException e) {
        if (e instanceof InterruptedIOException || e instanceof NydusifyException) {
            return false;
        }
        if (e instanceof RegistryException r) {
            return r.status() == 0 || r.status() >= 500 || r.status() == 429 || r.status() == 408;
        }
        return true;
    }
}
