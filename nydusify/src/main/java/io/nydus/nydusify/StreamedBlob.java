package io.nydus.nydusify;

import io.nydus.blobcache.registry.StreamedUpload;

/**
 * A converted layer's blob on its way to the target while it is built: the builder writes it to {@link #pipe()} as
 * well as to its file; {@link ImagePusher#pushStreamedBlob} commits it, or pushes the file when streaming failed.
 */
record StreamedBlob(UploadPipe pipe, StreamedUpload upload) {

    /** The build failed, or the blob is pushed by another layer: nothing of this upload is kept. */
    void abandon(Throwable why) {
        pipe.abandon(why);
        upload.cancel();
    }
}
