package io.nydus.daemon;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Conversions for the strings jnr-ffi makes of the C strings libfuse passes (paths, xattr names). jnr-ffi decodes
 * them with the JVM's default charset; the launcher sets it to ISO-8859-1, which maps every byte to one char,
 * so the original bytes of any name, valid UTF-8 or not, are recovered exactly.
 */
final class FuseStrings {
    private static final Charset NATIVE = Charset.defaultCharset();
    private static final boolean LOSSLESS = NATIVE.equals(StandardCharsets.ISO_8859_1);

    private FuseStrings() {
    }

    /** The bytes libfuse passed. */
    static byte[] bytes(String fuseString) {
        return fuseString.getBytes(NATIVE);
    }

    /** The string jnr-ffi would make of these bytes (the inverse of {@link #bytes}). */
    static String fromBytes(byte[] b) {
        return new String(b, NATIVE);
    }

    /** A FUSE string read as UTF-8 text (names of pseudo directories, xattr names). */
    static String toUnicode(String fuseString) {
        if (NATIVE.equals(StandardCharsets.UTF_8)) {
            return fuseString;
        }
        return new String(fuseString.getBytes(NATIVE), StandardCharsets.UTF_8);
    }

    /** Whether every byte sequence survives (false means a warning at start: some names would be unreachable). */
    static boolean lossless() {
        return LOSSLESS;
    }
}
