package io.nydus.nydusify;

import io.nydus.builder.CreateOptions;
import io.nydus.builder.ImageCreator;
import io.nydus.builder.WhiteoutSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Keeps directory attributes that layers only imply. When a layer holds {@code a/b/file} without an entry for
 * {@code a/b}, a container runtime leaves {@code a/b} as the lower layers made it; merging layer bootstraps instead
 * lets the layer's made-up {@code a/b} (0755, root, mtime 0, no xattrs) replace it — the root too, since most layers
 * have no "./" entry. This computes, from what {@link LayerScan} saw, the directories whose merged attributes would
 * be wrong, and builds a bootstrap-only layer (no blob, no chunks) restating their right attributes, merged last.
 * It is needed until {@code Merger} is told which directories each layer only implied.
 */
public final class DirectoryRepair {
    /** A directory no entry described: attributes are whatever the builder makes up. */
    private static final Object MADE_UP = new Object();

    private DirectoryRepair() {
    }

    /** The directories (and the right attributes) that need restating, parents first; empty when none. */
    public static Map<String, LayerScan.DirAttrs> plan(List<LayerScan.Result> layers) {
        Map<String, Object> right = new HashMap<>();
        Map<String, Object> merged = new HashMap<>();
        for (LayerScan.Result r : layers) {
            for (Map<String, Object> state : List.of(right, merged)) {
                r.opaque.forEach(d -> removeBelow(state, d, false));
                r.whiteouts.forEach(p -> removeBelow(state, p, true));
                r.nonDirs.forEach(p -> removeBelow(state, p, true));
                r.explicitDirs.forEach(state::put);
            }
            List<String> implied = new ArrayList<>(r.impliedDirs);
            if (!r.explicitDirs.containsKey("/")) {
                implied.add("/");
            }
            for (String d : implied) {
                right.putIfAbsent(d, MADE_UP);
                merged.put(d, MADE_UP);
            }
        }
        TreeSet<String> wrong = new TreeSet<>();
        for (Map.Entry<String, Object> e : right.entrySet()) {
            if (e.getValue() != MADE_UP && !Objects.equals(e.getValue(), merged.get(e.getKey()))) {
                for (String d = e.getKey();; d = LayerScan.parent(d)) {
                    wrong.add(d);
                    if (d.equals("/")) {
                        break;
                    }
                }
            }
        }
        Map<String, LayerScan.DirAttrs> out = new java.util.LinkedHashMap<>();
        for (String d : wrong) {
            if (right.get(d) instanceof LayerScan.DirAttrs a) {
                out.put(d, a);
            }
        }
        return out;
    }

    private static void removeBelow(Map<String, Object> state, String path, boolean self) {
        String prefix = path.equals("/") ? "/" : path + "/";
        state.keySet().removeIf(k -> (self && k.equals(path)) || (k.startsWith(prefix) && !k.equals("/")));
    }

    /** Builds the bootstrap-only layer restating {@code dirs}; null when there is nothing to restate. */
    public static Path build(Map<String, LayerScan.DirAttrs> dirs, ConvertOptions options, Path workDir)
            throws IOException {
        if (dirs.isEmpty()) {
            return null;
        }
        Path dir = Files.createTempDirectory(workDir, "dir-repair-");
        CreateOptions o = new CreateOptions();
        o.sourceType = CreateOptions.SourceType.TAR;
        o.sourceStream = new ByteArrayInputStream(tar(dirs));
        o.fsVersion = options.fsVersion;
        o.compressor = options.compressor;
        o.chunkSize = options.chunkSize;
        o.blob = dir.resolve("blob"); // never written: the layer has no chunks and no inline meta
        o.bootstrap = dir.resolve("bootstrap");
        o.blobInlineMeta = false;
        o.blobToc = false;
        o.whiteoutSpec = WhiteoutSpec.NONE;
        ImageCreator.create(o);
        return o.bootstrap;
    }

    /** A tar of directory entries with PAX records for path, mtime, owner and raw xattr values. */
    static byte[] tar(Map<String, LayerScan.DirAttrs> dirs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, LayerScan.DirAttrs> e : dirs.entrySet()) {
            String name = e.getKey().equals("/") ? "./" : "." + e.getKey() + "/";
            LayerScan.DirAttrs a = e.getValue();
            ByteArrayOutputStream pax = new ByteArrayOutputStream();
            record(pax, "path", name.getBytes(StandardCharsets.UTF_8));
            record(pax, "mtime", String.format(Locale.ROOT, "%d.%09d", a.mtimeSec(), a.mtimeNsec())
                    .getBytes(StandardCharsets.US_ASCII));
            record(pax, "uid", Long.toString(a.uid()).getBytes(StandardCharsets.US_ASCII));
            record(pax, "gid", Long.toString(a.gid()).getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> x : a.xattrs().entrySet()) {
                record(pax, "SCHILY.xattr." + x.getKey(), x.getValue());
            }
            byte[] p = pax.toByteArray();
            out.write(header("PaxHeader", 'x', 0644, 0, 0, p.length, 0));
            out.write(p);
            out.write(new byte[(512 - p.length % 512) % 512]);
            out.write(header(truncate(name), '5', a.mode(), Math.min(a.uid(), 07777777), Math.min(a.gid(), 07777777),
                    0, Math.max(0, Math.min(a.mtimeSec(), 077777777777L))));
        }
        out.write(new byte[1024]);
        return out.toByteArray();
    }

    private static String truncate(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return b.length <= 100 ? name : "./dir";
    }

    private static void record(ByteArrayOutputStream out, String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int body = 1 + k.length + 1 + value.length + 1; // ' ' key '=' value '\n'
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) {
            len = body + Integer.toString(len).length();
        }
        out.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(k);
        out.write('=');
        out.writeBytes(value);
        out.write('\n');
    }

    private static byte[] header(String name, char type, int mode, long uid, long gid, long size, long mtime) {
        byte[] h = new byte[512];
        put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = (byte) type;
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        octal(h, 148, 7, sum);
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int off, int len, byte[] v) {
        System.arraycopy(v, 0, h, off, Math.min(len, v.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        StringBuilder b = new StringBuilder();
        for (int i = s.length(); i < len - 1; i++) {
            b.append('0');
        }
        b.append(s);
        put(h, off, len - 1, b.toString().getBytes(StandardCharsets.US_ASCII));
        h[off + len - 1] = 0;
    }
}
