package io.nydus.builder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A tar stream that also keeps the raw bytes of each local PAX header: commons-compress decodes PAX values as
 * UTF-8 text, and xattr values are binary.
 *
 * <p>It also reads the time records of local PAX headers ({@code mtime}, {@code atime}, {@code ctime},
 * {@code LIBARCHIVE.creationtime}) itself and hands commons-compress the header without them: commons-compress
 * checks each time value with a regular expression and parses it with {@code BigDecimal}, and on a layer with a
 * PAX header per entry (GNU tar's default for nanosecond mtimes) that, with the JIT compiling it, cost 0.3 s of a
 * 1.4 s build of the Debian rootfs. The entries come out the same, times included; a value this class does not
 * accept whole (see {@link #seconds}) is left in the header for commons-compress to take or refuse.
 */
public final class RawPaxTarStream extends TarArchiveInputStream {
    /** The PAX time keys, as commons-compress knows them. */
    private static final String[] TIME_KEYS = {"mtime", "atime", "ctime", "LIBARCHIVE.creationtime"};
    private static final byte[] CREATION_TIME = TIME_KEYS[3].getBytes(StandardCharsets.US_ASCII);
    /** Larger local PAX headers pass through untouched (xattrs can be big; time records never are). */
    private static final int MAX_REWRITTEN = 1 << 20;

    private final ByteArrayOutputStream pax = new ByteArrayOutputStream();
    /** The PAX header entry whose data {@link #read} serves from {@link #served}. */
    private TarArchiveEntry paxEntry;
    private byte[] served;
    private int servedPos;
    /** Times taken out of the PAX headers before the entry being read, by record keyword. */
    private Map<String, Instant> times;
    /** Time keys those headers left in (values commons-compress takes itself); "*" = any. */
    private final Set<String> leftIn = new HashSet<>();
    /** A global PAX header was read: commons-compress applies it after the local ones, so times stay its job. */
    private boolean sawGlobal;
    private int depth;

    public RawPaxTarStream(InputStream in) {
        super(in, "UTF-8");
    }

    @Override
    public TarArchiveEntry getNextEntry() throws IOException {
        // commons-compress calls this again from inside, for the entry a PAX header precedes; the times are set
        // once it has applied that header, as it would have set them itself
        if (depth == 0) {
            times = null;
            leftIn.clear();
        }
        depth++;
        TarArchiveEntry e;
        try {
            e = super.getNextEntry();
        } finally {
            depth--;
        }
        if (depth == 0) {
            Map<String, Instant> t = times;
            times = null;
            if (e != null && t != null) {
                apply(t, e);
            }
        }
        return e;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        TarArchiveEntry cur = getCurrentEntry();
        if (cur != null && cur.isGlobalPaxHeader()) {
            sawGlobal = true;
        }
        if (cur != null && cur.isPaxHeader() && !sawGlobal && cur.getSize() <= MAX_REWRITTEN) {
            if (paxEntry != cur) {
                load(cur);
            }
            if (len == 0) {
                return 0;
            }
            if (servedPos >= served.length) {
                return -1;
            }
            int n = Math.min(len, served.length - servedPos);
            System.arraycopy(served, servedPos, b, off, n);
            servedPos += n;
            return n;
        }
        int n = super.read(b, off, len);
        if (n > 0 && cur != null && cur.isPaxHeader()) {
            pax.write(b, off, n);
        }
        return n;
    }

    /** The raw local PAX header read before the current entry, then forgotten. */
    public byte[] takePax() {
        byte[] b = pax.toByteArray();
        pax.reset();
        return b;
    }

    /** Reads a PAX header's data whole and keeps it without the time records it can parse. */
    private void load(TarArchiveEntry header) throws IOException {
        // sized by the header (at most MAX_REWRITTEN): a layer has a PAX header per file, so no scratch buffers
        byte[] data = new byte[(int) Math.max(0, header.getSize())];
        int got = 0;
        int n;
        while (got < data.length && (n = super.read(data, got, data.length - got)) > 0) {
            got += n;
        }
        if (got < data.length) {
            data = Arrays.copyOf(data, got); // cut short: commons-compress reports it when it parses the header
        }
        pax.write(data, 0, data.length);
        // Several PAX headers in a row: commons-compress applies the first one last, so its values win. A time key it
        // left in (or any key, if it could not read it) stays in the later headers too, for commons-compress to take.
        Map<String, Instant> found = new LinkedHashMap<>();
        Set<String> kept = new HashSet<>();
        if (leftIn.contains("*")) {
            served = data;
            kept.add("*");
        } else {
            served = withoutTimes(data, leftIn, found, kept);
        }
        servedPos = 0;
        paxEntry = header; // only now: a header cut short fails every read, not just the first
        if (times != null) {
            found.putAll(times);
        }
        times = found.isEmpty() ? times : found;
        leftIn.addAll(kept);
    }

    /**
     * {@code data} without its time records, whose values go to {@code found}. A key's last record is the one that
     * counts (commons-compress keeps the last value of a key). Left in, for commons-compress to judge, and named in
     * {@code kept} ("*" for all): the records of a key in {@code leave} or whose last value does not parse, and a
     * header that is not entirely well formed ("LEN key=value\n" records).
     *
     * <p>Plain loops over bytes: C2 compiles these early in every conversion, and an earlier version that compared
     * keys with {@code Arrays.equals} and collected records in a {@code ByteArrayOutputStream} cost it 55 ms.
     */
    static byte[] withoutTimes(byte[] data, Set<String> leave, Map<String, Instant> found, Set<String> kept) {
        // per time key: where its last record starts and ends, and its value starts (-1: no record)
        int[] at = new int[3 * TIME_KEYS.length];
        if (!scan(data, at)) {
            kept.add("*");
            return data;
        }
        int taken = 0; // bit k: the records of TIME_KEYS[k] go
        for (int k = 0; k < TIME_KEYS.length; k++) {
            int value = at[3 * k + 1];
            int end = at[3 * k + 2];
            if (at[3 * k] < 0 || value == end - 1) {
                continue; // absent, or an empty value, which deletes the key: commons-compress's to apply
            }
            Instant t = leave.contains(TIME_KEYS[k]) ? null : seconds(data, value, end - 1);
            if (t == null) {
                kept.add(TIME_KEYS[k]);
            } else {
                found.put(TIME_KEYS[k], t);
                taken |= 1 << k;
            }
        }
        return taken == 0 ? data : copyWithout(data, taken);
    }

    /**
     * Finds each time key's last record ({@code at[3k]}: start, {@code at[3k+1]}: value, {@code at[3k+2]}: end);
     * false when {@code data} is not entirely "LEN key=value\n" records.
     */
    private static boolean scan(byte[] data, int[] at) {
        Arrays.fill(at, -1);
        int pos = 0;
        while (pos < data.length) {
            int len = 0;
            int i = pos;
            while (i < data.length && i - pos < 9 && data[i] >= '0' && data[i] <= '9') {
                len = len * 10 + (data[i] - '0');
                i++;
            }
            int end = pos + len;
            if (i == pos || i >= data.length || data[i] != ' ' || len <= 0 || end > data.length || data[end - 1] != '\n') {
                return false;
            }
            int eq = i + 1;
            while (eq < end && data[eq] != '=') {
                eq++;
            }
            if (eq >= end) {
                return false;
            }
            int k = timeKey(data, i + 1, eq);
            if (k >= 0) {
                at[3 * k] = pos;
                at[3 * k + 1] = eq + 1;
                at[3 * k + 2] = end;
            }
            pos = end;
        }
        return true;
    }

    /** {@code data}, well formed, without every record of the keys in {@code taken} (bit k: TIME_KEYS[k]). */
    private static byte[] copyWithout(byte[] data, int taken) {
        byte[] out = new byte[data.length];
        int n = 0;
        int pos = 0;
        while (pos < data.length) {
            int len = 0;
            int i = pos;
            while (data[i] != ' ') {
                len = len * 10 + (data[i++] - '0');
            }
            int eq = i + 1;
            while (data[eq] != '=') {
                eq++;
            }
            int k = timeKey(data, i + 1, eq);
            if (k < 0 || (taken & (1 << k)) == 0) {
                System.arraycopy(data, pos, out, n, len);
                n += len;
            }
            pos += len;
        }
        return Arrays.copyOf(out, n);
    }

    /** Which of {@link #TIME_KEYS} {@code data[from, to)} is, or -1. */
    private static int timeKey(byte[] data, int from, int to) {
        int len = to - from;
        if (len == 5 && data[from + 1] == 't' && data[from + 2] == 'i' && data[from + 3] == 'm'
                && data[from + 4] == 'e') {
            return switch (data[from]) {
                case 'm' -> 0;
                case 'a' -> 1;
                case 'c' -> 2;
                default -> -1;
            };
        }
        if (len == CREATION_TIME.length) {
            for (int i = 0; i < len; i++) {
                if (data[from + i] != CREATION_TIME[i]) {
                    return -1;
                }
            }
            return 3;
        }
        return -1;
    }

    /**
     * Decimal seconds ("-?digits[.digits]") as commons-compress reads them (fraction truncated to nanoseconds), or
     * null for anything else; at most 15 integer digits, so that every accepted value is a valid instant.
     */
    static Instant seconds(byte[] b, int from, int to) {
        int i = from;
        boolean negative = i < to && b[i] == '-';
        if (negative) {
            i++;
        }
        long secs = 0;
        int digits = 0;
        while (i < to && b[i] >= '0' && b[i] <= '9') {
            secs = secs * 10 + (b[i++] - '0');
            digits++;
        }
        if (digits == 0 || digits > 15) {
            return null;
        }
        long nanos = 0;
        if (i < to && b[i] == '.') {
            i++;
            int frac = 0;
            while (i < to && b[i] >= '0' && b[i] <= '9') {
                if (frac < 9) {
                    nanos = nanos * 10 + (b[i] - '0');
                }
                frac++;
                i++;
            }
            if (frac == 0 || frac > 19) {
                return null;
            }
            for (int k = Math.min(frac, 9); k < 9; k++) {
                nanos *= 10;
            }
        }
        if (i != to) {
            return null;
        }
        return negative ? Instant.ofEpochSecond(-secs, -nanos) : Instant.ofEpochSecond(secs, nanos);
    }

    private static void apply(Map<String, Instant> t, TarArchiveEntry e) {
        for (Map.Entry<String, Instant> x : t.entrySet()) {
            FileTime v = FileTime.from(x.getValue());
            switch (x.getKey()) {
                case "mtime" -> e.setLastModifiedTime(v);
                case "atime" -> e.setLastAccessTime(v);
                case "ctime" -> e.setStatusChangeTime(v);
                default -> e.setCreationTime(v);
            }
        }
    }
}
