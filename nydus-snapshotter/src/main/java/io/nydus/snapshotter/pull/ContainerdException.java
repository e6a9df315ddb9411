package io.nydus.snapshotter.pull;

import io.grpc.Status;
import java.io.IOException;

/** A containerd call that failed: what was asked, containerd's own description, and its gRPC code. */
public final class ContainerdException extends IOException {
    private final Status.Code code;

    ContainerdException(String message, Status.Code code, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }
}
