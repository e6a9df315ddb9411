package io.nydus.nydusify;

import java.io.IOException;

/** A failure reported to the user as one line: the image, layer or blob, the registry or file, and why. */
public final class NydusifyException extends IOException {
    private static final long serialVersionUID = 1L;

    public NydusifyException(String message) {
        super(oneLine(message));
    }

    public NydusifyException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n]+", " ").strip();
    }
}
