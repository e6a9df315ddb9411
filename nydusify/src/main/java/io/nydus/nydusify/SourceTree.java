package io.nydus.nydusify;

import io.nydus.builder.RawPaxTarStream;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Xattrs;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The filesystem an OCI image describes, computed from its layer tars alone: the oracle {@code check} compares a
 * nydus image with. It shares no code with the builder: layers are read with commons-compress (PAX records are kept
 * as raw bytes, since xattr values are binary), OCI whiteouts are applied in order ({@code .wh.NAME} removes NAME
 * from the layers below, {@code .wh..wh..opq} empties its directory of what the layers below put there), and every
 * file's content is hashed. Tars that end without end-of-archive blocks after the last entry are accepted, as
 * containerd and umoci accept them; a tar cut inside an entry is not.
 */
public final class SourceTree {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    /** One inode; hard links share the object. */
    private static final class Node {
        int fmt;
        int mode;
        long uid;
        long gid;
        long mtimeSec;
        int mtimeNsec;
        long size;
        String sha256;
        String target;
        String device;
        Map<String, String> xattrs = Map.of();
        boolean explicit;

        static Node implicitDir() {
            Node n = new Node();
            n.fmt = FileMode.S_IFDIR;
            n.mode = 0755;
            return n;
        }
    }

    /** Absolute path ("/" for the root) → inode. */
    private final TreeMap<String, Node> entries = new TreeMap<>();

    public SourceTree() {
        entries.put("/", Node.implicitDir());
    }

    /** Applies one layer (an uncompressed tar stream) on top of the layers applied so far. */
    public void apply(InputStream tarStream, String what) throws IOException {
        PaddedStream padded = new PaddedStream(tarStream);
        List<Object[]> layer = new ArrayList<>(); // {path, Node or null (whiteout/opaque marker), kind, linkTarget}
        // Not closed: the caller drains the stream to verify the layer digest.
        RawPaxTarStream tar = new RawPaxTarStream(padded);
        {
            TarArchiveEntry e;
            while (true) {
                try {
                    e = tar.getNextEntry();
                } catch (IOException | IllegalArgumentException ex) {
                    throw new NydusifyException(what + ": corrupt tar: " + ex.getMessage(), ex);
                }
                if (e == null) {
                    break;
                }
                byte[] pax = tar.takePax();
                String path = normalize(e.getName());
                if (path == null) {
                    continue;
                }
                String base = path.substring(path.lastIndexOf('/') + 1);
                String parent = parentOf(path);
                if (base.equals(OPAQUE)) {
                    layer.add(new Object[] {parent, null, "opaque", null});
                    continue;
                }
                if (base.startsWith(WHITEOUT)) {
                    layer.add(new Object[] {join(parent, base.substring(WHITEOUT.length())), null, "whiteout", null});
                    continue;
                }
                if (e.isLink()) {
                    String t = normalize(e.getLinkName());
                    layer.add(new Object[] {path, null, "link", t});
                    continue;
                }
                Node n = new Node();
                n.explicit = true;
                if (e.isDirectory()) {
                    n.fmt = FileMode.S_IFDIR;
                } else if (e.isSymbolicLink()) {
                    n.fmt = FileMode.S_IFLNK;
                    n.target = e.getLinkName();
                } else if (e.isCharacterDevice() || e.isBlockDevice()) {
                    n.fmt = e.isCharacterDevice() ? FileMode.S_IFCHR : FileMode.S_IFBLK;
                    n.device = e.getDevMajor() + ":" + e.getDevMinor();
                } else if (e.isFIFO()) {
                    n.fmt = FileMode.S_IFIFO;
                } else if (e.isFile()) {
                    n.fmt = FileMode.S_IFREG;
                    MessageDigest md = io.nydus.nydusify.oci.Digests.messageDigest("sha256:");
                    byte[] buf = new byte[1 << 16];
                    long total = 0;
                    int r;
                    try {
                        while ((r = tar.read(buf)) > 0) {
                            md.update(buf, 0, r);
                            total += r;
                        }
                    } catch (IOException ex) {
                        throw new NydusifyException(what + ": corrupt tar at '" + e.getName() + "': " + ex.getMessage(), ex);
                    }
                    if (padded.padding()) {
                        throw new NydusifyException(what + ": tar ends inside '" + e.getName() + "'");
                    }
                    n.size = total;
                    n.sha256 = HexFormat.of().formatHex(md.digest());
                } else {
                    continue; // types a filesystem cannot hold (tar metadata)
                }
                n.mode = e.getMode() & 07777;
                n.uid = e.getLongUserId();
                n.gid = e.getLongGroupId();
                n.mtimeSec = Math.floorDiv(e.getModTime().getTime(), 1000L);
                Map<String, String> px = paxRecords(pax);
                String mtime = px.get("mtime");
                if (mtime != null) {
                    parseMtime(mtime, n);
                }
                n.xattrs = xattrs(pax);
                layer.add(new Object[] {path, n, "entry", null});
            }
        }
        // Whiteouts and opaque markers act on the layers below only: apply them before this layer's entries.
        for (Object[] x : layer) {
            String path = (String) x[0];
            if (x[2].equals("opaque")) {
                removeBelow(path, false);
            } else if (x[2].equals("whiteout")) {
                removeBelow(path, true);
            }
        }
        for (Object[] x : layer) {
            String path = (String) x[0];
            switch ((String) x[2]) {
                case "entry" -> put(path, (Node) x[1]);
                case "link" -> {
                    Node t = entries.get((String) x[3]);
                    if (t == null || t.fmt == FileMode.S_IFDIR) {
                        throw new NydusifyException(what + ": hard link '" + path + "' points at '" + x[3] + "', which is "
                                + (t == null ? "missing" : "a directory"));
                    }
                    put(path, t);
                }
                default -> {
                }
            }
        }
    }

    private void put(String path, Node n) {
        if (path.equals("/")) {
            if (n.fmt == FileMode.S_IFDIR) {
                entries.put("/", n);
            }
            return;
        }
        ensureDir(parentOf(path));
        Node old = entries.get(path);
        if (old != null && !(old.fmt == FileMode.S_IFDIR && n.fmt == FileMode.S_IFDIR)) {
            removeBelow(path, true);
        }
        entries.put(path, n);
    }

    private void ensureDir(String dir) {
        if (dir.equals("/")) {
            return;
        }
        Node n = entries.get(dir);
        if (n != null && n.fmt == FileMode.S_IFDIR) {
            return;
        }
        ensureDir(parentOf(dir));
        if (n != null) {
            removeBelow(dir, true);
        }
        entries.put(dir, Node.implicitDir());
    }

    /** Removes everything below {@code path}, and {@code path} itself when asked. */
    private void removeBelow(String path, boolean self) {
        if (self) {
            entries.remove(path);
        }
        String prefix = path.equals("/") ? "/" : path + "/";
        NavigableMap<String, Node> sub = entries.subMap(prefix, true, prefix + Character.MAX_VALUE, false);
        sub.keySet().removeIf(k -> !k.equals("/"));
    }

    /** Path → record, hard-link groups resolved. */
    public Map<String, FileRecord> records() {
        Map<Node, List<String>> names = new IdentityHashMap<>();
        for (Map.Entry<String, Node> e : entries.entrySet()) {
            if (e.getValue().fmt != FileMode.S_IFDIR) {
                names.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
            }
        }
        Map<String, FileRecord> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : entries.entrySet()) {
            Node n = e.getValue();
            List<String> group = names.getOrDefault(n, List.of());
            out.put(e.getKey(), new FileRecord(FileRecord.typeName(n.fmt), n.mode, n.uid, n.gid, n.mtimeSec,
                    n.mtimeNsec, n.size, n.sha256, n.target, n.device,
                    group.size() > 1 ? List.copyOf(group) : List.of(), n.xattrs, n.explicit));
        }
        return out;
    }

    static String normalize(String name) {
        String s = name;
        while (s.startsWith("./")) {
            s = s.substring(2);
        }
        while (s.startsWith("/")) {
            s = s.substring(1);
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || s.equals(".")) {
            return "/";
        }
        List<String> parts = new ArrayList<>();
        for (String p : s.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                return null; // never part of an image
            }
            parts.add(p);
        }
        return "/" + String.join("/", parts);
    }

    private static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    private static String join(String dir, String name) {
        return dir.equals("/") ? "/" + name : dir + "/" + name;
    }

    private static void parseMtime(String v, Node n) {
        try {
            int dot = v.indexOf('.');
            String secs = dot < 0 ? v : v.substring(0, dot);
            n.mtimeSec = Long.parseLong(secs);
            if (dot >= 0) {
                String frac = (v.substring(dot + 1) + "000000000").substring(0, 9);
                n.mtimeNsec = Integer.parseInt(frac);
                if (n.mtimeSec < 0 && n.mtimeNsec > 0) {
                    n.mtimeSec -= 1;
                    n.mtimeNsec = 1_000_000_000 - n.mtimeNsec;
                }
            }
        } catch (NumberFormatException e) {
            // keep the header's seconds
        }
    }

    /** PAX records as text (keys and values that are text). */
    private static Map<String, String> paxRecords(byte[] pax) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, byte[]> e : rawPaxRecords(pax).entrySet()) {
            out.put(e.getKey(), new String(e.getValue(), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Xattrs from SCHILY.xattr.* (raw bytes) and LIBARCHIVE.xattr.* (base64) records, names nydus can store. */
    private static Map<String, String> xattrs(byte[] pax) {
        Map<String, byte[]> x = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : rawPaxRecords(pax).entrySet()) {
            String k = e.getKey();
            if (k.startsWith("SCHILY.xattr.")) {
                x.put(k.substring("SCHILY.xattr.".length()), e.getValue());
            } else if (k.startsWith("LIBARCHIVE.xattr.")) {
                String name = java.net.URLDecoder.decode(k.substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
                try {
                    x.putIfAbsent(name, Base64.getDecoder().decode(
                            new String(e.getValue(), StandardCharsets.US_ASCII).replace("=", "")));
                } catch (IllegalArgumentException bad) {
                    // not base64: ignore, as archivers do
                }
            }
        }
        x.keySet().removeIf(k -> !Xattrs.isSupportedName(k));
        return FileRecord.hexValues(x);
    }

    /** "LEN KEY=VALUE\n" records with raw value bytes; later records override earlier ones. */
    static Map<String, byte[]> rawPaxRecords(byte[] pax) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int i = 0;
        while (i < pax.length) {
            int sp = i;
            while (sp < pax.length && pax[sp] != ' ') {
                sp++;
            }
            if (sp >= pax.length) {
                break;
            }
            int len;
            try {
                len = Integer.parseInt(new String(pax, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                break;
            }
            int end = i + len;
            if (len <= 0 || end > pax.length) {
                break;
            }
            int eq = sp + 1;
            while (eq < end && pax[eq] != '=') {
                eq++;
            }
            if (eq < end) {
                String key = new String(pax, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
                int valueEnd = end - 1; // the record's trailing newline
                byte[] value = java.util.Arrays.copyOfRange(pax, eq + 1, Math.max(eq + 1, valueEnd));
                out.put(key, value);
            }
            i = end;
        }
        return out;
    }

    /**
     * Ends a tar that stops right after an entry's data (no padding, no end-of-archive blocks) the way a complete
     * one ends: zeros up to the next 512-byte record, then two zero records. {@link #padding()} tells whether any of
     * those zeros were handed out, so that a tar cut inside an entry is still caught.
     */
    private static final class PaddedStream extends FilterInputStream {
        private long count;
        private long padLeft = -1;
        private boolean padded;

        PaddedStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            int n = read(b, 0, 1);
            return n < 0 ? -1 : b[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (padLeft < 0) {
                int n = super.read(b, off, len);
                if (n >= 0) {
                    count += n;
                    return n;
                }
                padLeft = (512 - count % 512) % 512 + 1024;
            }
            if (padLeft == 0) {
                return -1;
            }
            int n = (int) Math.min(len, padLeft);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            padLeft -= n;
            padded = true;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
            int r = read(buf, 0, buf.length);
            return Math.max(r, 0);
        }

        @Override
        public int available() throws IOException {
            return padLeft < 0 ? super.available() : (int) padLeft;
        }

        boolean padding() {
            return padded;
        }
    }
}
