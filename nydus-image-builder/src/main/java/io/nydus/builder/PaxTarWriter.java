package io.nydus.builder;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes a POSIX (PAX) tar stream. Hand-written because commons-compress encodes PAX values as UTF-8 text, and
 * xattr values are arbitrary bytes: they are written raw in {@code SCHILY.xattr.*} records, as Go's archive/tar,
 * containerd and upstream nydus do. Long names, large ids and sizes, and nanosecond mtimes go into PAX records.
 *
 * <p>ustar header (512 bytes): name 0/100, mode 100/8, uid 108/8, gid 116/8, size 124/12, mtime 136/12,
 * chksum 148/8, typeflag 156, linkname 157/100, magic "ustar\0" 257, version "00" 263, uname 265/32, gname 297/32,
 * devmajor 329/8, devminor 337/8, prefix 345/155.
 */
final class PaxTarWriter implements AutoCloseable {
    static final byte REG = '0';
    static final byte LINK = '1';
    static final byte SYMLINK = '2';
    static final byte CHR = '3';
    static final byte BLK = '4';
    static final byte DIR = '5';
    static final byte FIFO = '6';

    private final OutputStream out;
    private long written;

    PaxTarWriter(OutputStream out) {
        this.out = out;
    }

    /** One entry's header fields. */
    record Header(String name, byte type, int mode, long uid, long gid, long size, long mtime, int mtimeNsec,
            String linkName, long devMajor, long devMinor, Map<String, byte[]> xattrs) {
    }

    void putEntry(Header h) throws IOException {
        java.io.ByteArrayOutputStream pax = new java.io.ByteArrayOutputStream();
        byte[] name = h.name.getBytes(StandardCharsets.UTF_8);
        byte[] link = h.linkName == null ? new byte[0] : h.linkName.getBytes(StandardCharsets.UTF_8);
        if (name.length > 100 || !ascii(name)) {
            pax.writeBytes(PaxXattrs.record("path", name));
        }
        if (link.length > 100 || !ascii(link)) {
            pax.writeBytes(PaxXattrs.record("linkpath", link));
        }
        if (h.uid > 07777777) {
            pax.writeBytes(PaxXattrs.record("uid", ascii(Long.toString(h.uid))));
        }
        if (h.gid > 07777777) {
            pax.writeBytes(PaxXattrs.record("gid", ascii(Long.toString(h.gid))));
        }
        if (h.size > 077777777777L) {
            pax.writeBytes(PaxXattrs.record("size", ascii(Long.toString(h.size))));
        }
        if (h.mtimeNsec != 0 || h.mtime < 0 || h.mtime > 077777777777L) {
            String t = h.mtime + (h.mtimeNsec != 0 ? "." + String.format("%09d", h.mtimeNsec) : "");
            pax.writeBytes(PaxXattrs.record("mtime", ascii(t)));
        }
        for (Map.Entry<String, byte[]> x : h.xattrs.entrySet()) {
            pax.writeBytes(PaxXattrs.record(PaxXattrs.SCHILY + x.getKey(), x.getValue()));
        }
        if (pax.size() > 0) {
            byte[] p = pax.toByteArray();
            writeHeader("PaxHeaders/" + truncate(h.name), (byte) 'x', 0644, 0, 0, p.length, 0, "", 0, 0);
            write(p);
            pad();
        }
        writeHeader(h.name, h.type, h.mode, h.uid, h.gid, h.type == REG ? h.size : 0, h.mtime, h.linkName, h.devMajor,
                h.devMinor);
    }

    /** Writes file data; call {@link #pad()} after the last byte of an entry. */
    void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        written += len;
    }

    void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    void pad() throws IOException {
        int rem = (int) (written % 512);
        if (rem != 0) {
            write(new byte[512 - rem]);
        }
    }

    private void writeHeader(String name, byte type, int mode, long uid, long gid, long size, long mtime, String link,
            long major, long minor) throws IOException {
        byte[] h = new byte[512];
        putString(h, 0, 100, truncate(name));
        putOctal(h, 100, 8, mode & 07777);
        putOctal(h, 108, 8, Math.min(uid, 07777777));
        putOctal(h, 116, 8, Math.min(gid, 07777777));
        putOctal(h, 124, 12, Math.min(size, 077777777777L));
        putOctal(h, 136, 12, Math.max(0, Math.min(mtime, 077777777777L)));
        h[156] = type;
        putString(h, 157, 100, link == null ? "" : truncate(link));
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        putOctal(h, 329, 8, Math.min(major, 07777777));
        putOctal(h, 337, 8, Math.min(minor, 07777777));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        String c = String.format("%06o", sum);
        System.arraycopy(c.getBytes(StandardCharsets.US_ASCII), 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        write(h);
    }

    /** The ustar fields keep an ASCII prefix of long or non-ASCII names; the PAX record holds the real one. */
    private static String truncate(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch >= 0x80 || sb.length() >= 99) {
                break;
            }
            sb.append(ch);
        }
        return sb.toString();
    }

    private static void putString(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    private static void putOctal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        s = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
        System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, h, off, len - 1);
    }

    private static boolean ascii(byte[] b) {
        for (byte x : b) {
            if (x < 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes the two zero blocks that end an archive and flushes. */
    void finish() throws IOException {
        write(new byte[1024]);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
