package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended attributes through the system calls themselves (the tools hide buffer sizes): sizes, ENODATA for an
 * absent name, ERANGE for a short buffer, and "not supported" for an image without xattrs — per request under
 * a shared mount, so that another image there keeps its xattrs.
 */
class XattrTest {
    static final int ENODATA = 61;
    static final int ERANGE = 34;
    static final int EOPNOTSUPP = 95;

    /** libc's xattr calls. */
    public interface LibC {
        long lgetxattr(String path, String name, Pointer value, long size);

        long llistxattr(String path, Pointer list, long size);
    }

    static final LibC C = LibraryLoader.create(LibC.class).load("c");
    static final Runtime RT = Runtime.getSystemRuntime();

    @TempDir
    Path dir;

    /** Return value, or -errno. */
    static long getxattr(Path p, String name, int size) {
        Pointer buf = Memory.allocateDirect(RT, Math.max(1, size));
        long r = C.lgetxattr(p.toString(), name, size == 0 ? null : buf, size);
        return r < 0 ? -RT.getLastError() : r;
    }

    static long listxattr(Path p, int size) {
        Pointer buf = Memory.allocateDirect(RT, Math.max(1, size));
        long r = C.llistxattr(p.toString(), size == 0 ? null : buf, size);
        return r < 0 ? -RT.getLastError() : r;
    }

    static String value(Path p, String name) {
        Pointer buf = Memory.allocateDirect(RT, 256);
        long r = C.lgetxattr(p.toString(), name, buf, 256);
        byte[] b = new byte[(int) r];
        buf.get(0, b, 0, b.length);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void sizesErrorsAndImagesWithoutXattrs() throws Exception {
        Path with = Files.createDirectories(dir.resolve("with"));
        Files.writeString(with.resolve("f"), "x");
        ImageChecks.run("setfattr", "-n", "user.colour", "-v", "ultramarine", with.resolve("f").toString());
        ImageChecks.run("setfattr", "-n", "user.b", "-v", "1", with.resolve("f").toString());
        Path without = Files.createDirectories(dir.resolve("without"));
        Files.writeString(without.resolve("f"), "y");
        Path out = Files.createDirectories(dir.resolve("out"));
        Path withBoot = BuiltImageTest.build(with, out, "with", RafsVersion.V6, Compressor.NONE, Digester.SHA256)
                .bootstrap();
        Path withoutBoot = BuiltImageTest.build(without, out, "without", RafsVersion.V5, Compressor.NONE,
                Digester.SHA256).bootstrap();
        // enable_xattr is off: the image that has xattrs shows them anyway (its superblock says so), as upstream.
        String cfg = BuiltImageTest.config(out.resolve("blobs")).replace("\"enable_xattr\":true",
                "\"enable_xattr\":false");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-M", mnt.toString(), "-A",
                sock.toString()))) {
            d.awaitState(sock, "RUNNING");
            UnixHttp api = new UnixHttp(sock);
            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=/w",
                    BuiltImageTest.mountBody(withBoot, cfg)).status());
            assertEquals(204, api.send("POST", ApiServer.MOUNT + "?mountpoint=/n",
                    BuiltImageTest.mountBody(withoutBoot, cfg)).status());
            Path f = mnt.resolve("w/f");
            Path g = mnt.resolve("n/f");

            assertEquals(-EOPNOTSUPP, getxattr(g, "user.colour", 64));
            assertEquals(-EOPNOTSUPP, listxattr(g, 64));
            assertEquals("ultramarine".length(), getxattr(f, "user.colour", 0), "size query");
            assertEquals(-ERANGE, getxattr(f, "user.colour", 4));
            assertEquals("ultramarine", value(f, "user.colour"));
            assertEquals(-ENODATA, getxattr(f, "user.nothing", 64));
            long names = "user.b\0user.colour\0".length();
            assertEquals(names, listxattr(f, 0));
            assertEquals(-ERANGE, listxattr(f, (int) names - 1));
            assertEquals(names, listxattr(f, 256));
            assertEquals(0, listxattr(mnt.resolve("w"), 256), "no xattrs on the directory");
            assertEquals(0, d.awaitExitAfterTerm());
        }

        // A mount of the image without xattrs alone: the kernel is told once that the mount has none.
        try (NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", Files.writeString(dir.resolve("c.json"),
                cfg).toString(), "-M", mnt.toString(), "-B", withoutBoot.toString()))) {
            d.awaitMounted(mnt);
            assertEquals(-EOPNOTSUPP, getxattr(mnt.resolve("f"), "user.colour", 64));
            assertEquals(-EOPNOTSUPP, getxattr(mnt.resolve("f"), "security.selinux", 64));
            assertEquals(-EOPNOTSUPP, listxattr(mnt.resolve("f"), 64));
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }
}
