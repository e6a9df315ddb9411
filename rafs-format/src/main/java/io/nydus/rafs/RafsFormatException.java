package io.nydus.rafs;

/**
 * A bootstrap, blob or blob meta that does not follow the format. The message names the structure, the field
 * and, where known, the byte offset, so that a user can tell a truncated download from a bug.
 *
 * <p>Unchecked: metadata is decoded on demand from a memory-mapped file, so any accessor may meet corruption
 * that open-time validation could not see (for example in a blob meta file fetched later).
 */
public class RafsFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RafsFormatException(String message) {
        super(message);
    }

    public RafsFormatException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Fails with a message when {@code condition} is false. */
    public static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new RafsFormatException(String.format(format, args));
        }
    }
}
