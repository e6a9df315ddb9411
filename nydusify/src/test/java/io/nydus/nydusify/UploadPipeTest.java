package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pipe between the builder and a streamed upload: bytes arrive whole and in order; a stuck upload never holds
 * the builder for more than the stall time.
 */
class UploadPipeTest {

    /** Collects what the pipe publishes; requests {@code demand} items at subscription (0 = a stuck upload). */
    private static final class Upload implements Flow.Subscriber<ByteBuffer> {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<Void> end = new CompletableFuture<>();
        private final long demand;

        Upload(long demand) {
            this.demand = demand;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (demand > 0) {
                s.request(demand);
            }
        }

        @Override
        public synchronized void onNext(ByteBuffer item) {
            byte[] b = new byte[item.remaining()];
            item.get(b);
            bytes.write(b, 0, b.length);
        }

        @Override
        public void onError(Throwable t) {
            end.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            end.complete(null);
        }
    }

    @Test
    void everyByteArrivesInOrderAndTheBodyEndsAtClose() throws Exception {
        byte[] blob = new byte[5_000_000];
        new Random(5).nextBytes(blob);
        UploadPipe pipe = new UploadPipe();
        Upload upload = new Upload(Long.MAX_VALUE);
        pipe.publisher().subscribe(upload);
        for (int off = 0, n = 1; off < blob.length; off += n, n = Math.min(blob.length - off, n * 2 + 1)) {
            pipe.write(blob, off, Math.min(n, blob.length - off));
        }
        pipe.close();
        upload.end.get(10, TimeUnit.SECONDS);
        assertTrue(pipe.intact());
        assertArrayEquals(blob, upload.bytes.toByteArray());
    }

    @Test
    @Timeout(20)
    void aStuckUploadBreaksThePipeInsteadOfHoldingTheBuilder() throws Exception {
        UploadPipe pipe = new UploadPipe(200);
        Upload stuck = new Upload(0);
        pipe.publisher().subscribe(stuck);
        byte[] mib = new byte[1 << 20];
        long start = System.nanoTime();
        for (int i = 0; i < 64; i++) { // four times what the pipe holds
            pipe.write(mib, 0, mib.length);
        }
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertFalse(pipe.intact());
        assertTrue(seconds < 5, "the writes waited " + seconds + " s"); // one stall, not one per buffer
        pipe.close();
        Throwable why = stuck.end.handle((ok, t) -> t).get(10, TimeUnit.SECONDS);
        assertTrue(why != null, "the upload's body ends with an error, not short and clean");
    }

    @Test
    void anAbandonedPipeFailsTheBodyAndDropsLaterBytes() throws Exception {
        UploadPipe pipe = new UploadPipe();
        Upload upload = new Upload(Long.MAX_VALUE);
        pipe.publisher().subscribe(upload);
        pipe.write(new byte[100], 0, 100);
        pipe.abandon(new IllegalStateException("build failed"));
        pipe.write(new byte[3 << 20], 0, 3 << 20);
        pipe.close();
        assertFalse(pipe.intact());
        Throwable why = upload.end.handle((ok, t) -> t).get(10, TimeUnit.SECONDS);
        assertInstanceOf(IllegalStateException.class, why);
    }
}
