package io.nydus.nydusify;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Watches a layer's tar stream as the builder reads it, without buffering it: follows the tar structure (headers,
 * PAX and GNU long-name records, data, padding) to learn what the layer says about directories, and completes a tar
 * that stops right after an entry's data (no padding, no end-of-archive blocks, as {@code umoci insert} writes) with
 * the zeros a complete tar ends with. A tar cut inside an entry is left cut, so readers still fail on it.
 */
public final class LayerScan extends FilterInputStream {
    private static final int BLOCK = 512;

    /** Attributes a directory entry declares. */
    public record DirAttrs(int mode, long uid, long gid, long mtimeSec, int mtimeNsec, Map<String, byte[]> xattrs) {
    }

    /** What one layer says about directories and what it removes. */
    public static final class Result {
        /** Directories with an entry of their own ("/" for the root), last entry wins. */
        public final Map<String, DirAttrs> explicitDirs = new LinkedHashMap<>();
        /** Parents of entries that have no entry of their own (their attributes are not the layer's to set). */
        public final Set<String> impliedDirs = new LinkedHashSet<>();
        /** Paths replaced by something other than a directory. */
        public final Set<String> nonDirs = new LinkedHashSet<>();
        /** Targets of {@code .wh.NAME} whiteouts. */
        public final Set<String> whiteouts = new LinkedHashSet<>();
        /** Directories made opaque by {@code .wh..wh..opq}. */
        public final Set<String> opaque = new LinkedHashSet<>();
        /** Whether the end of the tar had to be supplied. */
        public boolean completedEnd;
    }

    private final Result result = new Result();
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private long dataLeft;
    private long padLeft;
    private ByteArrayOutputStream meta; // PAX or GNU long-name payload being collected
    private char metaType;
    private byte[] pendingPax;
    private String pendingLongName;
    private int zeroBlocks;
    private boolean ended;
    private long supplyLeft = -1;

    public LayerScan(InputStream in) {
        super(in);
    }

    public Result result() {
        finishImplied();
        return result;
    }

    @Override
    public int read() throws IOException {
        byte[] b = new byte[1];
        int n = read(b, 0, 1);
        return n < 0 ? -1 : b[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (supplyLeft < 0) {
            int n = super.read(b, off, len);
            if (n > 0) {
                consume(b, off, n);
                return n;
            }
            if (n == 0) {
                return 0;
            }
            supplyLeft = endPadding();
        }
        if (supplyLeft == 0) {
            return -1;
        }
        int n = (int) Math.min(len, supplyLeft);
        Arrays.fill(b, off, off + n, (byte) 0);
        supplyLeft -= n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(Math.max(n, 1), 1 << 16)];
        int r = read(buf, 0, buf.length);
        return Math.max(r, 0);
    }

    @Override
    public int available() throws IOException {
        return supplyLeft >= 0 ? (int) supplyLeft : super.available();
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Zeros to hand out at the real EOF: none for a complete (or a cut) tar, else padding + two zero blocks. */
    private long endPadding() {
        if (ended || zeroBlocks >= 2) {
            return 0;
        }
        if (dataLeft > 0 || headerFill > 0 || pendingPax != null || pendingLongName != null) {
            return 0; // cut inside a header or an entry's data: let the reader report it
        }
        result.completedEnd = true;
        return padLeft + 2L * BLOCK;
    }

    private void consume(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && !ended) {
            if (dataLeft > 0) {
                int n = (int) Math.min(dataLeft, end - i);
                if (meta != null) {
                    meta.write(b, i, n);
                }
                dataLeft -= n;
                i += n;
                if (dataLeft == 0 && meta != null) {
                    finishMeta();
                }
            } else if (padLeft > 0) {
                int n = (int) Math.min(padLeft, end - i);
                padLeft -= n;
                i += n;
            } else {
                int n = Math.min(BLOCK - headerFill, end - i);
                System.arraycopy(b, i, header, headerFill, n);
                headerFill += n;
                i += n;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    onHeader();
                }
            }
        }
    }

    private void onHeader() {
        boolean zero = true;
        for (byte x : header) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            if (++zeroBlocks >= 2) {
                ended = true;
            }
            return;
        }
        zeroBlocks = 0;
        char type = (char) header[156];
        long size = number(header, 124, 12);
        if (size < 0) {
            size = 0;
        }
        boolean hasData = !(type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6');
        long dataLen = hasData ? size : 0;
        dataLeft = dataLen;
        padLeft = (BLOCK - dataLen % BLOCK) % BLOCK;
        if (type == 'x' || type == 'X' || type == 'L') {
            meta = dataLen > 0 && dataLen < (16 << 20) ? new ByteArrayOutputStream() : null;
            metaType = type;
            if (dataLen == 0) {
                meta = null;
            }
            return;
        }
        if (type == 'g' || type == 'K') {
            return; // global headers and long link names do not change what we track
        }
        onEntry(type);
    }

    private void finishMeta() {
        byte[] data = meta.toByteArray();
        meta = null;
        if (metaType == 'L') {
            int n = 0;
            while (n < data.length && data[n] != 0) {
                n++;
            }
            pendingLongName = new String(data, 0, n, StandardCharsets.UTF_8);
        } else {
            pendingPax = data;
        }
    }

    private void onEntry(char type) {
        byte[] pax = pendingPax;
        String longName = pendingLongName;
        pendingPax = null;
        pendingLongName = null;
        Map<String, byte[]> records = pax == null ? Map.of() : SourceTree.rawPaxRecords(pax);
        String name;
        if (records.containsKey("path")) {
            name = new String(records.get("path"), StandardCharsets.UTF_8);
        } else if (longName != null) {
            name = longName;
        } else {
            name = text(header, 0, 100);
            String magic = text(header, 257, 6);
            if (magic.startsWith("ustar")) {
                String prefix = text(header, 345, 155);
                if (!prefix.isEmpty() && magic.equals("ustar")) {
                    name = prefix + "/" + name;
                }
            }
        }
        String path = SourceTree.normalize(name);
        if (path == null) {
            return;
        }
        String base = path.substring(path.lastIndexOf('/') + 1);
        String parent = parent(path);
        if (!path.equals("/")) {
            implyParents(parent);
        }
        if (base.equals(".wh..wh..opq")) {
            result.opaque.add(parent);
            return;
        }
        if (base.startsWith(".wh.")) {
            result.whiteouts.add((parent.equals("/") ? "" : parent) + "/" + base.substring(4));
            return;
        }
        if (type != '5') {
            if (!path.equals("/")) {
                result.nonDirs.add(path);
                result.explicitDirs.remove(path);
            }
            return;
        }
        int mode = (int) (number(header, 100, 8) & 07777);
        long uid = records.containsKey("uid") ? parseLong(records.get("uid"), number(header, 108, 8)) : number(header, 108, 8);
        long gid = records.containsKey("gid") ? parseLong(records.get("gid"), number(header, 116, 8)) : number(header, 116, 8);
        long mtime = number(header, 136, 12);
        int nsec = 0;
        if (records.containsKey("mtime")) {
            String v = new String(records.get("mtime"), StandardCharsets.US_ASCII);
            int dot = v.indexOf('.');
            try {
                mtime = Long.parseLong(dot < 0 ? v : v.substring(0, dot));
                if (dot >= 0) {
                    nsec = Integer.parseInt((v.substring(dot + 1) + "000000000").substring(0, 9));
                }
            } catch (NumberFormatException e) {
                // keep the header's seconds
            }
        }
        Map<String, byte[]> xattrs = new TreeMap<>();
        records.forEach((k, v) -> {
            if (k.startsWith("SCHILY.xattr.")) {
                xattrs.put(k.substring("SCHILY.xattr.".length()), v);
            }
        });
        result.nonDirs.remove(path);
        result.explicitDirs.put(path, new DirAttrs(mode, uid, gid, mtime, nsec, xattrs));
    }

    private final Set<String> impliedSeen = new HashSet<>();

    private void implyParents(String dir) {
        String d = dir;
        while (impliedSeen.add(d)) {
            if (d.equals("/")) {
                break;
            }
            d = parent(d);
        }
    }

    private void finishImplied() {
        result.impliedDirs.clear();
        for (String d : impliedSeen) {
            if (!result.explicitDirs.containsKey(d)) {
                result.impliedDirs.add(d);
            }
        }
    }

    static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    private static long parseLong(byte[] v, long dflt) {
        try {
            return Long.parseLong(new String(v, StandardCharsets.US_ASCII).trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static String text(byte[] h, int off, int len) {
        int n = 0;
        while (n < len && h[off + n] != 0) {
            n++;
        }
        return new String(h, off, n, StandardCharsets.UTF_8);
    }

    /** A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
    static long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7F;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (h[off + i] & 0xFF);
            }
            return v;
        }
        long v = 0;
        boolean any = false;
        for (int i = 0; i < len; i++) {
            byte c = h[off + i];
            if (c >= '0' && c <= '7') {
                v = v * 8 + (c - '0');
                any = true;
            } else if (c == 0 || (c == ' ' && any)) {
                if (any) {
                    break;
                }
            } else if (c != ' ') {
                return -1;
            }
        }
        return v;
    }
}
