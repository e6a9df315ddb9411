package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ISA-L's gunzip against java.util.zip's: the same bytes for every input, and errors for damaged ones. */
class IsalGzipInputStreamTest {

    @BeforeAll
    static void isalInstalled() {
        assertTrue(IsalGzipInputStream.usable(), "ISA-L is not usable here: install libisal2 (scripts/install-deps.sh)");
    }

    /** Random members (levels, sizes, compressibility) read back with random read sizes and input splits. */
    @Test
    void decodesWhatJavaUtilZipDecodes() throws IOException {
        Random r = new Random(7);
        for (int trial = 0; trial < 150; trial++) {
            int members = 1 + r.nextInt(3);
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            for (int m = 0; m < members; m++) {
                byte[] data = data(r, r.nextInt(4) == 0 ? r.nextInt(10) : r.nextInt(600_000));
                gz.write(gzip(data, r.nextInt(10)));
                plain.write(data);
            }
            byte[] compressed = gz.toByteArray();
            byte[] out = readAll(new IsalGzipInputStream(new Dribble(new ByteArrayInputStream(compressed), r)), r);
            assertArrayEquals(plain.toByteArray(), out, "trial " + trial);
            assertArrayEquals(new GZIPInputStream(new ByteArrayInputStream(compressed)).readAllBytes(), out);
        }
    }

    @Test
    void refusesDamagedOrTruncatedDataAndIgnoresTrailingBytes() throws IOException {
        Random r = new Random(11);
        byte[] data = data(r, 1 << 20);
        byte[] good = gzip(data, 6);
        assertArrayEquals(data, new IsalGzipInputStream(new ByteArrayInputStream(good)).readAllBytes());

        byte[] crc = good.clone();
        crc[crc.length - 6] ^= 0x40;
        assertEquals("corrupt gzip data: checksum or length mismatch", error(crc));
        byte[] length = good.clone();
        length[length.length - 1] ^= 0x01;
        assertEquals("corrupt gzip data: checksum or length mismatch", error(length));
        byte[] header = good.clone();
        header[2] = 7; // compression method other than deflate
        assertTrue(error(header).startsWith("corrupt gzip data"), error(header));
        for (int cut : new int[] {1, 4, 9, 100, good.length / 2, good.length - 9, good.length - 1}) {
            assertEquals("gzip data ends too early (truncated layer)", error(Arrays.copyOf(good, cut)), "cut " + cut);
        }
        // after the last member, what does not start another is ignored, as by java.util.zip
        for (byte[] tail : List.of(new byte[] {'x'}, new byte[] {0x1F}, new byte[] {0x1F, (byte) 0x8B},
                new byte[] {0x1F, (byte) 0x8B, 7, 0}, new byte[512])) {
            byte[] trailed = Arrays.copyOf(good, good.length + tail.length);
            System.arraycopy(tail, 0, trailed, good.length, tail.length);
            assertArrayEquals(data, new IsalGzipInputStream(new Dribble(new ByteArrayInputStream(trailed), r))
                    .readAllBytes());
            assertArrayEquals(data, new GZIPInputStream(new ByteArrayInputStream(trailed)).readAllBytes());
        }

        // flipped bits inside the deflate stream: an error or, where the damage decodes, the CRC catches it
        for (int i = 0; i < 200; i++) {
            byte[] bad = good.clone();
            bad[10 + r.nextInt(good.length - 18)] ^= (byte) (1 << r.nextInt(8));
            assertTrue(error(bad).startsWith("corrupt gzip data"));
        }
    }

    /** gzip(1) writes the file name; other tools add an extra field, a comment, a header CRC. */
    @Test
    void headerWithEveryOptionalField() throws IOException {
        byte[] data = data(new Random(3), 300_000);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.write(new byte[] {0x1F, (byte) 0x8B, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3});
        header.write(new byte[] {6, 0, 'A', 'B', 2, 0, 'x', 'y'}); // FEXTRA: one subfield
        header.write("layer.tar\0a comment\0".getBytes(StandardCharsets.ISO_8859_1)); // FNAME, FCOMMENT
        CRC32 headerCrc = new CRC32();
        headerCrc.update(header.toByteArray());
        gz.write(header.toByteArray());
        gz.write((int) headerCrc.getValue() & 0xFF); // FHCRC: the low 16 bits
        gz.write((int) (headerCrc.getValue() >> 8) & 0xFF);
        Deflater d = new Deflater(6, true);
        d.setInput(data);
        d.finish();
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) {
            gz.write(buf, 0, d.deflate(buf));
        }
        CRC32 crc = new CRC32();
        crc.update(data);
        for (long v : new long[] {crc.getValue(), data.length}) {
            for (int i = 0; i < 4; i++) {
                gz.write((int) (v >> (8 * i)) & 0xFF);
            }
        }
        byte[] bytes = gz.toByteArray();
        assertArrayEquals(data, new GZIPInputStream(new ByteArrayInputStream(bytes)).readAllBytes());
        assertArrayEquals(data, new IsalGzipInputStream(new ByteArrayInputStream(bytes)).readAllBytes());
    }

    @Test
    void singleByteReadsAndEmptyReads() throws IOException {
        byte[] data = "hello, layer".getBytes();
        try (InputStream in = new IsalGzipInputStream(new ByteArrayInputStream(gzip(data, 9)))) {
            assertEquals(0, in.read(new byte[4], 0, 0));
            for (byte b : data) {
                assertEquals(b & 0xFF, in.read());
            }
            assertEquals(-1, in.read());
            assertEquals(-1, in.read(new byte[4]));
        }
    }

    private static String error(byte[] gz) {
        return assertThrows(IOException.class,
                () -> new IsalGzipInputStream(new ByteArrayInputStream(gz)).readAllBytes()).getMessage();
    }

    private static byte[] readAll(InputStream in, Random r) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 20];
        int n;
        while ((n = in.read(buf, 0, 1 + r.nextInt(buf.length))) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Text-like bytes of random compressibility, with stretches of noise (stored blocks). */
    private static byte[] data(Random r, int size) {
        byte[] b = new byte[size];
        int alphabet = 2 + r.nextInt(60);
        for (int i = 0; i < size; i++) {
            b[i] = (byte) ('A' + r.nextInt(alphabet));
        }
        if (size > 1000 && r.nextBoolean()) {
            byte[] noise = new byte[r.nextInt(size / 2)];
            r.nextBytes(noise);
            System.arraycopy(noise, 0, b, r.nextInt(size - noise.length), noise.length);
        }
        return b;
    }

    private static byte[] gzip(byte[] data, int level) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out) {
            {
                def.setLevel(level == 0 ? Deflater.NO_COMPRESSION : level);
            }
        }) {
            g.write(data);
        }
        return out.toByteArray();
    }

    /** Hands out the input in random small pieces, as a network stream does. */
    private static final class Dribble extends FilterInputStream {
        private final Random r;

        Dribble(InputStream in, Random r) {
            super(in);
            this.r = r;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, 1 + r.nextInt(r.nextBoolean() ? 3 : 300_000)));
        }
    }
}
