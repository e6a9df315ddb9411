package io.nydus.builder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
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
        paxEntry = header;
        ByteArrayOutputStream raw = new ByteArrayOutputStream((int) Math.max(0, header.getSize()));
        byte[] buf = new byte[8192];
        int n;
        while ((n = super.read(buf, 0, buf.length)) > 0) {
            raw.write(buf, 0, n);
        }
        byte[] data = raw.toByteArray();
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
     */
    static byte[] withoutTimes(byte[] data, Set<String> leave, Map<String, Instant> found, Set<String> kept) {
        List<int[]> records = new ArrayList<>(); // start, end, value start
        List<String> keys = new ArrayList<>();
        int pos = 0;
        while (pos < data.length) {
            int len = 0;
            int i = pos;
            while (i < data.length && data[i] >= '0' && data[i] <= '9' && i - pos < 9) {
                len = len * 10 + (data[i] - '0');
                i++;
            }
            int end = pos + len;
            if (i == pos || i >= data.length || data[i] != ' ' || len <= 0 || end > data.length || data[end - 1] != '\n') {
                kept.add("*");
                return data;
            }
            int eq = i + 1;
            while (eq < end && data[eq] != '=') {
                eq++;
            }
            if (eq >= end) {
                kept.add("*");
                return data;
            }
            records.add(new int[] {pos, end, eq + 1});
            keys.add(new String(data, i + 1, eq - i - 1, StandardCharsets.UTF_8));
            pos = end;
        }
        Map<String, Integer> last = new LinkedHashMap<>();
        for (int r = 0; r < records.size(); r++) {
            if (isTime(keys.get(r))) {
                last.put(keys.get(r), r);
            }
        }
        Map<String, Instant> taken = new LinkedHashMap<>();
        last.forEach((key, r) -> {
            int[] rec = records.get(r);
            if (rec[1] - 1 > rec[2]) { // an empty value deletes the key: left to commons-compress, and no value
                Instant t = leave.contains(key) ? null : seconds(data, rec[2], rec[1] - 1);
                if (t != null) {
                    taken.put(key, t);
                } else {
                    kept.add(key);
                }
            }
        });
        if (taken.isEmpty()) {
            return data;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length);
        for (int r = 0; r < records.size(); r++) {
            if (!taken.containsKey(keys.get(r))) {
                out.write(data, records.get(r)[0], records.get(r)[1] - records.get(r)[0]);
            }
        }
        found.putAll(taken);
        return out.toByteArray();
    }

    private static boolean isTime(String key) {
        return key.equals("mtime") || key.equals("atime") || key.equals("ctime")
                || key.equals("LIBARCHIVE.creationtime");
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
