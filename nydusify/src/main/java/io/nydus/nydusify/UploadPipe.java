package io.nydus.nydusify;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;

/**
 * A blob's bytes on their way from the builder, which writes them here as it writes the blob file, to an HTTP
 * upload running at the same time, which subscribes to {@link #publisher()}. At most 16 MiB wait between the two.
 * The builder is never held up by a failed or stalled upload for long: once the upload has failed, or the bytes
 * waited 30 s for it, the pipe is broken, drops what it is given, and the blob is pushed from its file afterwards.
 */
final class UploadPipe extends OutputStream {
    private static final int ITEM = 1 << 20;
    private static final int ITEMS = 16;
    private static final long STALL_MILLIS = 30_000;

    private final ExecutorService delivery = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "nydusify-upload-pipe");
        t.setDaemon(true);
        return t;
    });
    private final SubmissionPublisher<ByteBuffer> items = new SubmissionPublisher<>(delivery, ITEMS);
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final long stallMillis;
    private volatile boolean broken;
    private boolean closed;
    private ByteBuffer pending = ByteBuffer.allocate(ITEM);

    UploadPipe() {
        this(STALL_MILLIS);
    }

    /** @param stallMillis how long the bytes may wait for the upload before the pipe breaks */
    UploadPipe(long stallMillis) {
        this.stallMillis = stallMillis;
    }

    /** Where the upload takes the bytes from; it may subscribe once. */
    Flow.Publisher<ByteBuffer> publisher() {
        return subscriber -> {
            items.subscribe(subscriber);
            subscribed.countDown();
        };
    }

    /** True while every byte written so far is on its way to the upload. */
    boolean intact() {
        return !broken;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        while (len > 0 && !broken) {
            int n = Math.min(len, pending.remaining());
            pending.put(b, off, n);
            off += n;
            len -= n;
            if (!pending.hasRemaining()) {
                submit();
            }
        }
    }

    /** The blob is complete: the upload's body ends after the bytes written so far. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pending.position() > 0) {
            submit();
        }
        if (broken) {
            items.closeExceptionally(new IOException("upload pipe broken"));
        } else {
            items.close();
        }
        delivery.shutdown();
    }

    /** Ends the upload's body with an error (the build failed, or the upload did); later bytes are dropped. */
    void abandon(Throwable why) {
        broken = true;
        subscribed.countDown();
        items.closeExceptionally(why);
        delivery.shutdown();
    }

    private void submit() {
        ByteBuffer item = pending.flip();
        pending = ByteBuffer.allocate(ITEM);
        try {
            if (!subscribed.await(stallMillis, TimeUnit.MILLISECONDS) || broken) {
                broken = true;
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            broken = true;
            return;
        }
        try {
            // dropped (the upload stalled), or nobody to take it (the upload ended): either way the upload is short
            if (items.getNumberOfSubscribers() == 0
                    || items.offer(item, stallMillis, TimeUnit.MILLISECONDS, (s, dropped) -> false) < 0) {
                broken = true;
            }
        } catch (IllegalStateException e) {
            broken = true; // abandoned meanwhile
        }
    }
}
