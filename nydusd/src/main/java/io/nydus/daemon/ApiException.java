package io.nydus.daemon;

/** An API request that fails with an HTTP status and upstream's error body {@code {"code","message"}}. */
public final class ApiException extends Exception {
    public static final int BAD_REQUEST = 400;
    public static final int NOT_FOUND = 404;
    public static final int INTERNAL = 500;
    public static final int NOT_IMPLEMENTED = 501;
    public static final int NOT_READY = 503;

    private final int status;

    public ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
