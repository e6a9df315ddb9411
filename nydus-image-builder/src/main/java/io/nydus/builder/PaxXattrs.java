package io.nydus.builder;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes in the raw bytes of a PAX extended header: records {@code "<len> <key>=<value>\n"} with keys
 * {@code SCHILY.xattr.<name>} (value = raw bytes, as Go's archive/tar, containerd and upstream nydus write them)
 * and {@code LIBARCHIVE.xattr.<url-encoded name>} (value = base64).
 */
final class PaxXattrs {
    static final String SCHILY = "SCHILY.xattr.";
    static final String LIBARCHIVE = "LIBARCHIVE.xattr.";

    private PaxXattrs() {
    }

    static Map<String, byte[]> parse(byte[] pax) throws BadInputException {
        TreeMap<String, byte[]> out = new TreeMap<>();
        int p = 0;
        while (p < pax.length) {
            if (pax[p] == 0) {
                break; // padding
            }
            int sp = p;
            while (sp < pax.length && pax[sp] != ' ') {
                sp++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(pax, p, sp - p, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new BadInputException("corrupt PAX extended header (bad record length)");
            }
            if (len <= sp - p || p + len > pax.length || pax[p + len - 1] != '\n') {
                throw new BadInputException("corrupt PAX extended header (record overruns the header)");
            }
            int eq = sp + 1;
            while (eq < p + len && pax[eq] != '=') {
                eq++;
            }
            String key = new String(pax, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
            byte[] value = Arrays.copyOfRange(pax, Math.min(eq + 1, p + len - 1), p + len - 1);
            if (key.startsWith(SCHILY)) {
                out.put(key.substring(SCHILY.length()), value);
            } else if (key.startsWith(LIBARCHIVE)) {
                String name = URLDecoder.decode(key.substring(LIBARCHIVE.length()), StandardCharsets.UTF_8);
                try {
                    out.put(name, Base64.getDecoder().decode(new String(value, StandardCharsets.US_ASCII).trim()));
                } catch (IllegalArgumentException e) {
                    throw new BadInputException("corrupt PAX header: xattr " + name + " is not base64");
                }
            }
            p += len;
        }
        return out;
    }

    /** Encodes one PAX record, whose length field counts itself. */
    static byte[] record(String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int body = 1 + k.length + 1 + value.length + 1;
        int len = body + String.valueOf(body).length();
        if (String.valueOf(len).length() != String.valueOf(body).length()) {
            len++;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(len);
        b.writeBytes(String.valueOf(len).getBytes(StandardCharsets.US_ASCII));
        b.write(' ');
        b.writeBytes(k);
        b.write('=');
        b.writeBytes(value);
        b.write('\n');
        return b.toByteArray();
    }
}
