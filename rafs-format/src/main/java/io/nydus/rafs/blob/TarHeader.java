package io.nydus.rafs.blob;

import java.nio.charset.StandardCharsets;

/**
 * The 512-byte GNU tar headers that nydus appends <em>after</em> each section of a blob, so that a blob is also a
 * (reverse-readable) tar stream.
 *
 * <pre>
 * off size field
 *   0  100 name        section name, NUL padded ("image.blob", "blob.meta", "blob.digest", "image.boot", "rafs.blob.toc")
 * 100   24 mode/uid/gid all NUL
 * 124   12 size        11 octal digits + NUL
 * 136   12 mtime       "00000000000\0"
 * 148    8 chksum      7 octal digits + NUL (sum of the header with this field read as spaces)
 * 156    1 typeflag    '0'
 * 257    8 magic       "ustar  \0" (GNU)
 * </pre>
 */
public final class TarHeader {
    public static final int SIZE = 512;

    public static final String IMAGE_BLOB = "image.blob";
    public static final String IMAGE_BOOT = "image.boot";
    public static final String BLOB_META = "blob.meta";
    public static final String BLOB_META_HEADER = "blob.meta.header";
    public static final String BLOB_DIGEST = "blob.digest";
    public static final String BLOB_TOC = "rafs.blob.toc";

    private TarHeader() {
    }

    public static byte[] encode(String name, long size) {
        byte[] h = new byte[SIZE];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, h, 0, Math.min(n.length, 100));
        putOctal(h, 124, 12, size);
        putOctal(h, 136, 12, 0);
        h[156] = '0';
        System.arraycopy("ustar  \0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        putOctal(h, 148, 8, sum);
        return h;
    }

    private static void putOctal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        int digits = len - 1;
        if (s.length() > digits) {
            throw new IllegalArgumentException("value " + v + " does not fit a tar field of " + len + " bytes");
        }
        s = "0".repeat(digits - s.length()) + s;
        System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, h, off, digits);
        h[off + digits] = 0;
    }

    /** A decoded trailing header: section name and payload size. */
    public record Entry(String name, long size) {
    }

    /** Decodes a header; null when the bytes are not a valid tar header (checksum, magic or size field). */
    public static Entry decode(byte[] h, int off) {
        if (h.length - off < SIZE) {
            return null;
        }
        String magic = new String(h, off + 257, 5, StandardCharsets.US_ASCII);
        if (!magic.equals("ustar")) {
            return null;
        }
        long sum = 0;
        for (int i = 0; i < SIZE; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (h[off + i] & 0xFF);
        }
        Long stored = parseOctal(h, off + 148, 8);
        Long size = parseOctal(h, off + 124, 12);
        if (stored == null || stored != sum || size == null) {
            return null;
        }
        int end = 0;
        while (end < 100 && h[off + end] != 0) {
            end++;
        }
        return new Entry(new String(h, off, end, StandardCharsets.US_ASCII), size);
    }

    private static Long parseOctal(byte[] h, int off, int len) {
        long v = 0;
        int i = 0;
        while (i < len && h[off + i] == ' ') {
            i++;
        }
        boolean any = false;
        for (; i < len; i++) {
            int c = h[off + i];
            if (c == 0 || c == ' ') {
                break;
            }
            if (c < '0' || c > '7') {
                return null;
            }
            v = v * 8 + (c - '0');
            any = true;
        }
        return any ? v : null;
    }
}
