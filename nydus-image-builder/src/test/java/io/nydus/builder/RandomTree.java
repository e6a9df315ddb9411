package io.nydus.builder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes a random directory tree on disk with every kind of entry a real image has: empty, small, multi-chunk,
 * sparse and duplicate files, directories, symlinks, hard links, character and block devices, fifos; owners above
 * 65535, setuid/setgid/sticky bits, nanosecond mtimes, user/trusted/security xattrs and POSIX ACLs, names of 255
 * bytes, deep paths and UTF-8 names. The tree is made by one generated bash script (as root).
 */
final class RandomTree {
    private final Random rnd;
    private final StringBuilder create = new StringBuilder("set -e\n");
    private final StringBuilder attrs = new StringBuilder();
    private final List<String> files = new ArrayList<>();
    private final List<String> all = new ArrayList<>();
    private final boolean binaryXattrs;
    private int counter;

    private RandomTree(long seed, boolean binaryXattrs) {
        this.rnd = new Random(seed);
        this.binaryXattrs = binaryXattrs;
    }

    /**
     * Creates the tree under {@code root} (which must not exist).
     *
     * @param binaryXattrs allow xattr values with bytes above 0x7f (GNU tar re-encodes those, so tar-based
     *                     comparisons use ASCII values)
     */
    static void create(Path root, long seed, boolean binaryXattrs) throws IOException {
        RandomTree t = new RandomTree(seed, binaryXattrs);
        t.dir(root.toString(), 0);
        StringBuilder script = new StringBuilder(t.create).append(t.attrs);
        // mtimes last, children before parents, so that creating children does not change them again
        for (int i = t.all.size() - 1; i >= 0; i--) {
            String p = t.all.get(i);
            script.append("touch -h -d @").append(t.rnd.nextInt(2_000_000_000)).append('.')
                    .append(String.format("%09d", t.rnd.nextInt(1_000_000_000))).append(' ').append(q(p)).append('\n');
        }
        script.append("touch -h -d @1600000000.123456789 ").append(q(root.toString())).append('\n');
        run(script.toString());
    }

    private void dir(String path, int depth) {
        create.append("mkdir -p ").append(q(path)).append('\n');
        if (depth > 0) {
            all.add(path);
            owner(path);
            chmod(path, 0755 | (rnd.nextInt(8) == 0 ? 01000 : 0) | (rnd.nextInt(8) == 0 ? 02000 : 0));
            xattrs(path);
        }
        int n = depth == 0 ? 12 : rnd.nextInt(depth > 3 ? 3 : 7);
        for (int i = 0; i < n; i++) {
            String child = path + "/" + name();
            int kind = rnd.nextInt(100);
            if (kind < 45) {
                file(child);
            } else if (kind < 60 && depth < 5) {
                dir(child, depth + 1);
            } else if (kind < 70) {
                String target = rnd.nextInt(3) == 0 ? "/" + name() + "/" + name() : "../" + name();
                if (rnd.nextInt(10) == 0) {
                    target = "t".repeat(200 + rnd.nextInt(50));
                }
                create.append("ln -s ").append(q(target)).append(' ').append(q(child)).append('\n');
                all.add(child);
                owner(child);
                xattrIf(child, false);
            } else if (kind < 78 && !files.isEmpty()) {
                String target = files.get(rnd.nextInt(files.size()));
                create.append("ln ").append(q(target)).append(' ').append(q(child)).append('\n');
            } else if (kind < 86) {
                boolean blk = rnd.nextBoolean();
                int major = 1 + rnd.nextInt(250);
                int minor = rnd.nextInt(4) == 0 ? 256 + rnd.nextInt(60000) : rnd.nextInt(256);
                create.append("mknod ").append(q(child)).append(blk ? " b " : " c ").append(major).append(' ')
                        .append(minor).append('\n');
                all.add(child);
                owner(child);
                chmod(child, 0600 + rnd.nextInt(0100));
            } else if (kind < 92) {
                create.append("mkfifo ").append(q(child)).append('\n');
                all.add(child);
                owner(child);
                chmod(child, 0644);
            } else if (depth < 3) {
                // A deep path of long names (well past 256 bytes).
                String deep = child;
                for (int d = 0; d < 4; d++) {
                    deep += "/" + "d".repeat(60 + rnd.nextInt(60));
                }
                create.append("mkdir -p ").append(q(deep)).append('\n');
                String[] parts = deep.substring(path.length() + 1).split("/");
                String p = path;
                for (String part : parts) {
                    p += "/" + part;
                    all.add(p);
                }
                file(deep + "/" + "f".repeat(255));
            }
        }
    }

    private void file(String path) {
        files.add(path);
        all.add(path);
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            create.append(": > ").append(q(path)).append('\n');
        } else if (kind < 6) {
            create.append("head -c ").append(rnd.nextInt(20000)).append(" /dev/urandom > ").append(q(path)).append('\n');
        } else if (kind < 8) {
            // Compressible multi-chunk content (chunk sizes in the tests are 4 KiB .. 1 MiB).
            create.append("yes ").append(q(name())).append(" | head -c ").append(100_000 + rnd.nextInt(1_500_000))
                    .append(" > ").append(q(path)).append('\n');
        } else if (kind == 8 && files.size() > 1) {
            String other = files.get(rnd.nextInt(files.size() - 1));
            create.append("cp ").append(q(other)).append(' ').append(q(path)).append('\n');
        } else {
            // Sparse: a hole, some data, a hole.
            create.append("truncate -s ").append(3_000_000 + rnd.nextInt(2_000_000)).append(' ').append(q(path)).append('\n');
            create.append("printf data | dd of=").append(q(path)).append(" bs=1 seek=").append(1_000_000 + rnd.nextInt(1000))
                    .append(" conv=notrunc status=none\n");
        }
        owner(path);
        int mode = 0644 | (rnd.nextInt(3) == 0 ? 0111 : 0);
        if (rnd.nextInt(10) == 0) {
            mode |= 04000;
        }
        if (rnd.nextInt(10) == 0) {
            mode |= 02000;
        }
        chmod(path, mode);
        xattrs(path);
    }

    private void owner(String path) {
        long uid = rnd.nextInt(4) == 0 ? 65536 + rnd.nextInt(1_000_000) : rnd.nextInt(2000);
        long gid = rnd.nextInt(4) == 0 ? 65536 + rnd.nextInt(1_000_000) : rnd.nextInt(2000);
        attrs.append("chown -h ").append(uid).append(':').append(gid).append(' ').append(q(path)).append('\n');
    }

    private void chmod(String path, int mode) {
        attrs.append("chmod ").append(Integer.toOctalString(mode)).append(' ').append(q(path)).append('\n');
    }

    private void xattrs(String path) {
        xattrIf(path, true);
    }

    private void xattrIf(String path, boolean aclAllowed) {
        if (rnd.nextInt(3) != 0) {
            return;
        }
        String[] ns = {"user.", "trusted.", "security."};
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n; i++) {
            String nsp = ns[rnd.nextInt(ns.length)];
            if (nsp.equals("user.") && !aclAllowed) {
                nsp = "trusted.";
            }
            String value;
            if (binaryXattrs && rnd.nextBoolean()) {
                byte[] b = new byte[1 + rnd.nextInt(40)];
                rnd.nextBytes(b);
                value = "0x" + java.util.HexFormat.of().formatHex(b);
            } else {
                value = "0x" + java.util.HexFormat.of().formatHex(("v" + rnd.nextInt(1_000_000)).getBytes(StandardCharsets.US_ASCII));
            }
            attrs.append("setfattr -h -n ").append(q(nsp + "k" + rnd.nextInt(1000))).append(" -v ").append(value).append(' ')
                    .append(q(path)).append('\n');
        }
        if (aclAllowed && rnd.nextInt(3) == 0) {
            attrs.append("setfacl -m u:").append(1000 + rnd.nextInt(100)).append(":rx ").append(q(path)).append('\n');
        }
    }

    private String name() {
        counter++;
        int kind = rnd.nextInt(12);
        if (kind == 0) {
            return "n".repeat(250) + String.format("%05d", counter);
        }
        if (kind == 1) {
            return "ü名前 " + counter;
        }
        String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        StringBuilder sb = new StringBuilder();
        int len = 1 + rnd.nextInt(12);
        for (int i = 0; i < len; i++) {
            sb.append(chars.charAt(rnd.nextInt(chars.length())));
        }
        String s = sb.toString() + counter;
        return s.startsWith(".wh.") ? "x" + s : s;
    }

    private static String q(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    static void run(String script) throws IOException {
        Path f = Files.createTempFile("tree", ".sh");
        try {
            Files.writeString(f, script);
            Process p = new ProcessBuilder("bash", f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("tree script failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
