package io.nydus.snapshotter;

/**
 * A snapshot operation refused for a reason containerd distinguishes; {@link Code} maps one to one onto the gRPC
 * status codes containerd's {@code errdefs} expects from a proxy snapshotter.
 */
public final class SnapshotException extends RuntimeException {
    /** containerd's error classes. */
    public enum Code { NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, INVALID_ARGUMENT, UNAVAILABLE, INTERNAL }

    private final Code code;

    public SnapshotException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public SnapshotException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    public static SnapshotException notFound(String message) {
        return new SnapshotException(Code.NOT_FOUND, message);
    }

    public static SnapshotException alreadyExists(String message) {
        return new SnapshotException(Code.ALREADY_EXISTS, message);
    }

    public static SnapshotException failedPrecondition(String message) {
        return new SnapshotException(Code.FAILED_PRECONDITION, message);
    }

    public static SnapshotException invalidArgument(String message) {
        return new SnapshotException(Code.INVALID_ARGUMENT, message);
    }
}
