package io.nydus.rafs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nydus.rafs.tree.Tree;
import io.nydus.rafs.tree.TreeEntry;
import io.nydus.rafs.tree.TreeInode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Whatever tree a writer is given, the reader gives it back: names, attributes, links, xattrs and chunks. */
class BootstrapRoundTripProperties {

    @Property(tries = 40)
    void v6ReadsBackWhatWasWritten(@ForAll long seed, @ForAll @IntRange(min = 1, max = 400) int size) throws Exception {
        roundTrip(RafsVersion.V6, seed, size);
    }

    @Property(tries = 40)
    void v5ReadsBackWhatWasWritten(@ForAll long seed, @ForAll @IntRange(min = 1, max = 400) int size) throws Exception {
        roundTrip(RafsVersion.V5, seed, size);
    }

    private static void roundTrip(RafsVersion v, long seed, int size) throws Exception {
        Tree tree = SampleImages.random(seed, size);
        byte[] image = SampleImages.write(v, tree, 0x10000);
        try (RafsSuper sb = RafsSuper.open(image)) {
            assertEquals(v, sb.version());
            assertEquals(2, sb.blobs().size());
            Map<TreeInode, Long> inoOf = new IdentityHashMap<>();
            List<String> expected = new ArrayList<>();
            tree.preOrder(e -> expected.add(e.path()));
            List<String> actual = new ArrayList<>();
            sb.walk(e -> {
                actual.add(e.path());
                TreeEntry te = tree.lookup(e.path());
                TreeInode in = te.inode();
                Inode got = e.inode();
                assertEquals(in.mode, got.mode(), e.path());
                assertEquals(in.uid, got.uid(), e.path());
                assertEquals(in.gid, got.gid(), e.path());
                assertEquals(in.mtime, got.mtime(), e.path());
                assertEquals(in.mtimeNsec, got.mtimeNsec(), e.path());
                assertEquals(in.xattrs, sb.xattrs(e.ino()), e.path());
                Long prev = inoOf.putIfAbsent(in, e.ino());
                if (prev != null) {
                    assertEquals(prev.longValue(), e.ino(), "hard links share an inode: " + e.path());
                }
                if (in.isSymlink()) {
                    assertArrayEquals(in.symlinkTarget, sb.readlink(e.ino()), e.path());
                } else if (in.isReg()) {
                    assertEquals(in.size, got.size());
                    assertEquals(in.chunks.size(), got.chunkCount());
                    for (int i = 0; i < in.chunks.size(); i++) {
                        ChunkInfo c = sb.chunk(e.ino(), i);
                        assertEquals(in.chunks.get(i), c, e.path() + " chunk " + i);
                    }
                } else if (FileMode.isChr(in.mode) || FileMode.isBlk(in.mode)) {
                    assertEquals(in.rdev, got.rdev(), e.path());
                } else if (in.isDir()) {
                    assertEquals(2 + te.children().stream().filter(TreeEntry::isDir).count(), got.nlink(), e.path());
                    for (TreeEntry c : te.children()) {
                        assertEquals(inoOfChild(sb, e.ino(), c), sb.lookup(e.ino(), c.name()));
                    }
                    assertEquals(-1, sb.lookup(e.ino(), "no-such-name".getBytes()));
                }
            });
            assertEquals(expected, actual);
            assertEquals(Math.min(5, expected.size() - 1), sb.prefetchInodes().length);
        }
    }

    private static long inoOfChild(RafsSuper sb, long dir, TreeEntry c) {
        long[] found = {-1};
        sb.readdir(dir, 0, (name, ino, mode, next) -> {
            if (java.util.Arrays.equals(name, c.name())) {
                found[0] = ino;
                return false;
            }
            return true;
        });
        return found[0];
    }
}
