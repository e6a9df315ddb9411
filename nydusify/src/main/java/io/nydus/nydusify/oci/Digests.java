package io.nydus.nydusify.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Content digests ("sha256:<64 hex>"), the names of everything in an image. */
public final class Digests {
    private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern SHA512 = Pattern.compile("sha512:[0-9a-f]{128}");

    private Digests() {
    }

    public static String sha256(byte[] data) {
        return "sha256:" + HexFormat.of().formatHex(messageDigest("sha256:").digest(data));
    }

    /** Whether {@code d} is a digest this tool can verify (sha256 or sha512, lower-case hex). */
    public static boolean isValid(String d) {
        return d != null && (SHA256.matcher(d).matches() || SHA512.matcher(d).matches());
    }

    /** Checks the digest of a descriptor read from an image; {@code what} names where it was found. */
    public static String require(String d, String what) {
        if (!isValid(d)) {
            throw new IllegalArgumentException(what + ": '" + d + "' is not a sha256 or sha512 digest");
        }
        return d;
    }

    public static String algorithm(String d) {
        return d.substring(0, d.indexOf(':'));
    }

    public static String hex(String d) {
        int c = d.indexOf(':');
        return c < 0 ? d : d.substring(c + 1);
    }

    /** The hasher for a digest's algorithm. */
    public static MessageDigest messageDigest(String digest) {
        try {
            return MessageDigest.getInstance(digest.startsWith("sha512:") ? "SHA-512" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String format(String algorithm, byte[] sum) {
        return algorithm + ":" + HexFormat.of().formatHex(sum);
    }
}
