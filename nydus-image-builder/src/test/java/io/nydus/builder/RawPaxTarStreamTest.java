package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;

/**
 * RawPaxTarStream takes the time records out of PAX headers and sets the times itself: with commons-compress's own
 * reading as the oracle, every entry comes out the same (times, names, sizes, other PAX values), and a tar it
 * refuses is refused at the same entry.
 */
class RawPaxTarStreamTest {

    private static final String[] TIME_KEYS = {"mtime", "atime", "ctime", "LIBARCHIVE.creationtime"};

    @Property(tries = 2000)
    void entriesEqualCommonsCompressReadingTheSameTar(@ForAll long seed) throws IOException {
        byte[] tar = randomTar(new Random(seed));
        assertEquals(describe(new TarArchiveInputStream(new ByteArrayInputStream(tar), "UTF-8")),
                describe(new RawPaxTarStream(new ByteArrayInputStream(tar))));
    }

    @Test
    void nanosecondMtimesAndTheRawHeaderAreKept() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] records = (record("mtime", "1700000000.123456789") + record("SCHILY.xattr.user.k", "v")
                + record("atime", "-1.5")).getBytes(StandardCharsets.UTF_8);
        header(out, "PaxHeaders/f", 'x', records.length, 0);
        data(out, records);
        header(out, "f", '0', 3, 99);
        data(out, "abc".getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[1024]);
        try (RawPaxTarStream s = new RawPaxTarStream(new ByteArrayInputStream(out.toByteArray()))) {
            TarArchiveEntry e = s.getNextEntry();
            assertEquals(Instant.ofEpochSecond(1700000000L, 123456789), e.getLastModifiedTime().toInstant());
            assertEquals(Instant.ofEpochSecond(-1, -500000000), e.getLastAccessTime().toInstant());
            assertEquals("v", e.getExtraPaxHeader("SCHILY.xattr.user.k"));
            assertArrayEquals(records, s.takePax(), "xattrs are read from the raw header, time records and all");
        }
    }

    private static String describe(TarArchiveInputStream in) {
        StringBuilder sb = new StringBuilder();
        try (in) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                sb.append(e.getName()).append(' ').append(e.getSize()).append(' ').append(e.getLastModifiedTime())
                        .append(' ').append(e.getLastAccessTime()).append(' ').append(e.getStatusChangeTime())
                        .append(' ').append(e.getCreationTime()).append(' ').append(e.getExtraPaxHeaders())
                        .append(' ').append(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).append('\n');
            }
            sb.append("end");
        } catch (IOException | RuntimeException ex) {
            sb.append("refused");
        }
        return sb.toString();
    }

    /**
     * Entries with PAX headers of time records (good, odd and bad values) and other records, sometimes two in a row;
     * sometimes a global header first, a damaged byte, or the tar cut short.
     */
    private static byte[] randomTar(Random r) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (r.nextInt(8) == 0) {
            byte[] g = record("mtime", timeValue(r)).getBytes(StandardCharsets.UTF_8);
            header(out, "GlobalHead", 'g', g.length, 0);
            data(out, g);
        }
        int entries = 1 + r.nextInt(4);
        for (int i = 0; i < entries; i++) {
            int paxHeaders = r.nextInt(4) == 0 ? 2 : r.nextInt(3) == 0 ? 0 : 1;
            for (int h = 0; h < paxHeaders; h++) {
                StringBuilder recs = new StringBuilder();
                int n = r.nextInt(5);
                for (int k = 0; k < n; k++) {
                    recs.append(r.nextInt(4) == 0 ? record("SCHILY.xattr.user.a" + k, "v" + r.nextInt(100))
                            : record(TIME_KEYS[r.nextInt(TIME_KEYS.length)], timeValue(r)));
                }
                byte[] b = recs.toString().getBytes(StandardCharsets.UTF_8);
                if (r.nextInt(20) == 0 && b.length > 0) {
                    b[r.nextInt(b.length)] = (byte) " =\n9x".charAt(r.nextInt(5)); // a damaged header
                }
                header(out, "PaxHeaders/e" + i, 'x', b.length, 0);
                data(out, b);
            }
            byte[] content = ("content " + i).getBytes(StandardCharsets.US_ASCII);
            header(out, "e" + i, '0', content.length, 1_600_000_000L + i);
            data(out, content);
        }
        out.write(new byte[1024]);
        byte[] tar = out.toByteArray();
        return r.nextInt(10) == 0 ? Arrays.copyOf(tar, r.nextInt(tar.length)) : tar; // sometimes cut short
    }

    private static String timeValue(Random r) {
        switch (r.nextInt(12)) {
            case 0: return "";
            case 1: return "1e5";
            case 2: return "12.";
            case 3: return ".5";
            case 4: return "9".repeat(16 + r.nextInt(4)); // too long for this class: left to commons-compress
            case 5: return "-" + r.nextInt(100) + "." + r.nextInt(10);
            case 6: return r.nextInt(2_000_000_000) + "." + "1234567890123456789".substring(0, 1 + r.nextInt(19));
            case 7: return "0" + r.nextInt(1000);
            default: return r.nextInt(2_000_000_000) + (r.nextBoolean() ? "" : "." + r.nextInt(1_000_000_000));
        }
    }

    /** A PAX record: its length counts its own digits. */
    private static String record(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.length() + 1;
        while (String.valueOf(len).length() + body.length() != len) {
            len++;
        }
        return len + body;
    }

    private static void header(ByteArrayOutputStream out, String name, char type, long size, long mtime) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, String.format("%011o", mtime));
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte x : h) {
            sum += x & 0xFF;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        out.write(h, 0, 512);
    }

    private static void data(ByteArrayOutputStream out, byte[] b) {
        out.write(b, 0, b.length);
        out.write(new byte[(512 - b.length % 512) % 512], 0, (512 - b.length % 512) % 512);
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }
}
