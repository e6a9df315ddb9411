package io.nydus.snapshotter.pull;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.nydus.snapshotter.api.content.WriteAction;
import io.nydus.snapshotter.api.content.WriteContentRequest;
import io.nydus.snapshotter.api.content.WriteContentResponse;
import io.nydus.snapshotter.api.types.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One blob streamed into containerd's content store through {@code Content.Write}, the way containerd's own remote
 * writer does it: a STAT message opens the ingest (named by {@code ref}; containerd answers AlreadyExists when it
 * has the blob, and then holds it for the caller's lease), WRITE messages carry the data from offset 0 (which also
 * discards what a killed earlier attempt left in the ingest), and COMMIT makes containerd check size and digest and
 * store the blob with its labels. containerd answers every message; the next is sent only after the answer, so at
 * most one chunk is in flight and nothing is held in memory beyond it.
 */
final class ContentWriter {
    private static final int CHUNK = 1 << 20;
    private static final long ANSWER_TIMEOUT_SECONDS = 300;
    private static final Object END = new Object();

    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private final ClientCall<WriteContentRequest, WriteContentResponse> call;
    private final StreamObserver<WriteContentRequest> requests;

    private ContentWriter(Channel channel) {
        call = channel.newCall(ContainerdGrpc.CONTENT_WRITE, CallOptions.DEFAULT);
        requests = ClientCalls.asyncBidiStreamingCall(call, new StreamObserver<>() {
            @Override
            public void onNext(WriteContentResponse value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
                answers.add(t);
            }

            @Override
            public void onCompleted() {
                answers.add(END);
            }
        });
    }

    /**
     * Writes {@code data} (exactly {@code desc.size} bytes hashing to {@code desc.digest}) under {@code ref}.
     *
     * @return false when containerd had the blob already (nothing was written, labels were not applied)
     * @throws StatusRuntimeException as containerd answered, e.g. UNAVAILABLE while another pull holds the ref
     */
    static boolean write(Channel channel, String ref, Descriptor desc, InputStream data, Map<String, String> labels)
            throws IOException {
        ContentWriter w = new ContentWriter(channel);
        try {
            return w.run(ref, desc, data, labels);
        } catch (IOException | RuntimeException e) {
            w.call.cancel("pull failed", e);
            throw e;
        }
    }

    private boolean run(String ref, Descriptor desc, InputStream data, Map<String, String> labels)
            throws IOException {
        WriteContentRequest.Builder open = WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref)
                .setTotal(desc.getSize()).setExpected(desc.getDigest());
        if (send(open.build()) == null) {
            return false;
        }
        long offset = 0;
        byte[] buf = new byte[CHUNK];
        int n;
        while ((n = data.readNBytes(buf, 0, CHUNK)) > 0) {
            if (offset + n > desc.getSize()) {
                throw new IOException(desc.getDigest() + " is larger than its " + desc.getSize() + " bytes");
            }
            WriteContentResponse r = send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setRef(ref)
                    .setOffset(offset).setData(ByteString.copyFrom(buf, 0, n)).build());
            offset += n;
            if (r == null || r.getOffset() != offset) {
                throw new IOException("containerd stored " + (r == null ? "nothing" : r.getOffset() + " bytes")
                        + " of " + desc.getDigest() + ", " + offset + " sent");
            }
        }
        WriteContentResponse done = send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setRef(ref)
                .setOffset(offset).setTotal(desc.getSize()).setExpected(desc.getDigest()).putAllLabels(labels)
                .build());
        if (done == null) {
            return false;
        }
        requests.onCompleted();
        return true;
    }

    /** Sends one message and waits for containerd's answer; null when containerd says it has the blob already. */
    private WriteContentResponse send(WriteContentRequest req) throws IOException {
        requests.onNext(req);
        Object a;
        try {
            a = answers.poll(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (a == null) {
            throw new IOException("containerd did not answer a content write within " + ANSWER_TIMEOUT_SECONDS + " s");
        }
        if (a instanceof WriteContentResponse r) {
            return r;
        }
        if (a == END) {
            throw new IOException("containerd ended the content write early");
        }
        Status s = Status.fromThrowable((Throwable) a);
        if (s.getCode() == Status.Code.ALREADY_EXISTS) {
            return null;
        }
        throw s.asRuntimeException();
    }
}
