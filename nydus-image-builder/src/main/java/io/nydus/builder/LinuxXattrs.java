package io.nydus.builder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/** Reads every extended attribute of a path without following symlinks ({@code llistxattr}/{@code lgetxattr}). */
final class LinuxXattrs {
    private static final int ENODATA = 61;
    private static final int ERANGE = 34;
    private static final int ENOTSUP = 95;

    /** The libc functions used. */
    public interface LibC {
        long llistxattr(byte[] path, byte[] list, long size);

        long lgetxattr(byte[] path, byte[] name, byte[] value, long size);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private LinuxXattrs() {
    }

    static Map<String, byte[]> read(Path path) throws IOException {
        byte[] p = cString(path.toString());
        TreeMap<String, byte[]> out = new TreeMap<>();
        byte[] list = new byte[1024];
        long n;
        while ((n = LIBC.llistxattr(p, list, list.length)) < 0) {
            int err = LastError.getLastError(RUNTIME);
            if (err == ERANGE) {
                list = new byte[list.length * 4];
            } else if (err == ENOTSUP) {
                return out;
            } else {
                throw new IOException(path + ": llistxattr failed (errno " + err + ")");
            }
        }
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (list[i] == 0) {
                String name = new String(list, start, i - start, StandardCharsets.UTF_8);
                byte[] value = get(p, name, path);
                if (value != null) {
                    out.put(name, value);
                }
                start = i + 1;
            }
        }
        return out;
    }

    private static byte[] get(byte[] p, String name, Path path) throws IOException {
        byte[] n = cString(name);
        byte[] v = new byte[256];
        while (true) {
            long len = LIBC.lgetxattr(p, n, v, v.length);
            if (len >= 0) {
                return java.util.Arrays.copyOf(v, (int) len);
            }
            int err = LastError.getLastError(RUNTIME);
            if (err == ERANGE) {
                v = new byte[Math.max(v.length * 4, 65536)];
            } else if (err == ENODATA) {
                return null;
            } else {
                throw new IOException(path + ": lgetxattr " + name + " failed (errno " + err + ")");
            }
        }
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }
}
