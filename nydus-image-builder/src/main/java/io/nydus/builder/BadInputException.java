package io.nydus.builder;

import java.io.IOException;

/** Input the builder refuses (a corrupt tar, a path with "..", a dangling hard link...): a one-line message. */
public class BadInputException extends IOException {
    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
