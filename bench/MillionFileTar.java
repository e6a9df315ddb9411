import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a tar of 1,000 directories with 1,000 empty files each to stdout, for bench/nydusd.sh's heap measurement:
 * {@code java MillionFileTar.java | nydus-image create -t tar-rafs ... -}.
 */
public class MillionFileTar {
    public static void main(String[] args) throws IOException {
        int dirs = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int files = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        try (OutputStream out = new BufferedOutputStream(System.out, 1 << 20)) {
            for (int d = 0; d < dirs; d++) {
                String dir = "d" + (10000 + d) + "/";
                out.write(header(dir, '5', 0755));
                for (int f = 0; f < files; f++) {
                    out.write(header(dir + "file-" + (1_000_000 + f), '0', 0644));
                }
            }
            out.write(new byte[1024]);
        }
    }

    private static byte[] header(String name, char type, int mode) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, h, 0, n.length);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, 0);
        octal(h, 136, 12, 1_700_000_000L);
        h[156] = (byte) type;
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        octal(h, 148, 7, sum);
        return h;
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        s = "0".repeat(len - 1 - s.length()) + s;
        System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, h, off, len - 1);
    }
}
