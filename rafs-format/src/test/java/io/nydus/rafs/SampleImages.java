package io.nydus.rafs;

import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Random in-memory trees and the bootstraps written from them (no blob data: chunks are synthetic). */
final class SampleImages {
    private SampleImages() {
    }

    static byte[] v6() throws IOException {
        return write(RafsVersion.V6, random(42, 300), 0x10000);
    }

    static byte[] v5() throws IOException {
        return write(RafsVersion.V5, random(43, 300), 0x10000);
    }

    static byte[] write(RafsVersion v, Tree tree, int chunkSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        spec(tree, chunkSize).write(v, out);
        return out.toByteArray();
    }

    static BootstrapSpec spec(Tree tree, int chunkSize) {
        List<BlobInfo> blobs = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            blobs.add(BlobInfo.builder().blobId(String.format("%064x", b + 1)).index(b).chunkSize(chunkSize)
                    .chunkCount(1 << 20).compressor(Compressor.ZSTD).digester(Digester.SHA256)
                    .features(BlobFeatures.ALIGNED | BlobFeatures.CAP_TAR_TOC).compressedSize(1L << 30)
                    .uncompressedSize(1L << 34).build());
        }
        List<TreeEntry> prefetch = new ArrayList<>();
        tree.preOrder(e -> {
            if (prefetch.size() < 5 && e.parent() != null) {
                prefetch.add(e);
            }
        });
        return new BootstrapSpec(tree, blobs, chunkSize, Compressor.ZSTD, Digester.SHA256, true, prefetch);
    }

    /** A random tree with about {@code n} entries of every kind, chunk lists spread over two blobs. */
    static Tree random(long seed, int n) {
        Random r = new Random(seed);
        Tree t = Tree.empty();
        t.root().inode().mtime = 1_600_000_000;
        List<TreeEntry> dirs = new ArrayList<>();
        List<TreeInode> files = new ArrayList<>();
        dirs.add(t.root());
        int[] chunkIndex = {0, 0};
        long[] uoff = {0, 0};
        for (int i = 0; i < n; i++) {
            TreeEntry parent = dirs.get(r.nextInt(dirs.size()));
            byte[] name = name(r, i);
            int kind = r.nextInt(10);
            TreeInode in;
            if (kind == 0 && !files.isEmpty()) {
                in = files.get(r.nextInt(files.size()));
            } else if (kind < 3) {
                in = new TreeInode(FileMode.S_IFDIR | 0755);
            } else if (kind < 5) {
                in = new TreeInode(FileMode.S_IFLNK | 0777);
                in.symlinkTarget = ("target/" + "t".repeat(r.nextInt(r.nextInt(8) == 0 ? 4000 : 40))).getBytes(StandardCharsets.UTF_8);
            } else if (kind == 5) {
                in = new TreeInode((r.nextBoolean() ? FileMode.S_IFCHR : r.nextBoolean() ? FileMode.S_IFBLK : FileMode.S_IFIFO) | 0600);
                in.rdev = FileMode.isSpecial(in.mode) && !FileMode.isChr(in.mode) && !FileMode.isBlk(in.mode) ? 0
                        : FileMode.makedev(1 + r.nextInt(300), r.nextInt(70000));
            } else {
                in = new TreeInode(FileMode.S_IFREG | 0644 | (r.nextInt(6) == 0 ? 04000 : 0));
                long size = r.nextInt(5) == 0 ? 0 : r.nextInt(300_000);
                in.size = size;
                for (long off = 0; off < size; off += 0x10000) {
                    int blob = r.nextInt(2);
                    int len = (int) Math.min(0x10000, size - off);
                    byte[] digest = new byte[32];
                    r.nextBytes(digest);
                    in.chunks.add(new ChunkInfo(digest, blob, ChunkInfo.FLAG_COMPRESSED, uoff[blob] / 2, len / 2 + 1,
                            uoff[blob], len, off, chunkIndex[blob]++, 0));
                    uoff[blob] += 0x10000;
                }
                files.add(in);
            }
            if (in != null && kind != 0) {
                in.uid = r.nextInt(4) == 0 ? 100_000 + r.nextInt(1000) : r.nextInt(1000);
                in.gid = r.nextInt(1000);
                in.mtime = r.nextInt(3) == 0 ? 0 : 1_000_000_000L + r.nextInt(1_000_000_000);
                in.mtimeNsec = in.mtime == 0 ? 0 : r.nextInt(1_000_000_000);
                if (r.nextInt(4) == 0) {
                    Map<String, byte[]> x = new TreeMap<>();
                    x.put("user.k" + r.nextInt(10), bytes(r, r.nextInt(30)));
                    if (r.nextBoolean()) {
                        x.put("security.capability", bytes(r, 20));
                    }
                    if (r.nextBoolean()) {
                        x.put("system.posix_acl_access", bytes(r, 28));
                    }
                    if (r.nextBoolean()) {
                        x.put("trusted.overlay.opaque", new byte[] {'y'});
                    }
                    in.xattrs = Xattrs.of(x);
                }
            }
            if (parent.child(name) != null) {
                continue;
            }
            TreeEntry e = new TreeEntry(name, in);
            parent.put(e);
            if (e.isDir()) {
                dirs.add(e);
            }
        }
        // A directory with enough entries to span several blocks.
        TreeEntry big = new TreeEntry("big".getBytes(StandardCharsets.UTF_8), new TreeInode(FileMode.S_IFDIR | 0700));
        t.root().put(big);
        for (int i = 0; i < 700; i++) {
            TreeInode f = new TreeInode(FileMode.S_IFREG | 0600);
            big.put(new TreeEntry(("entry-with-a-longish-name-" + i).getBytes(StandardCharsets.UTF_8), f));
        }
        return t;
    }

    private static byte[] name(Random r, int i) {
        if (r.nextInt(20) == 0) {
            return ("n".repeat(240) + i).getBytes(StandardCharsets.UTF_8);
        }
        String[] pre = {"a", "Z", "-x", ".hidden", "名", "~", "0"};
        return (pre[r.nextInt(pre.length)] + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }
}
