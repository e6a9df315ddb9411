package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LayerScanTest {
    private static LayerScan.Result scan(byte[] tar, int[] outLength) throws IOException {
        LayerScan s = new LayerScan(new ByteArrayInputStream(tar));
        outLength[0] = s.readAllBytes().length;
        return s.result();
    }

    @Test
    void learnsDirectoriesWhiteoutsAndWhatIsOnlyImplied() throws IOException {
        byte[] tar = SourceTreeTest.tar("d:a", "f:a/x=1", "f:b/c/y=2", "f:a/.wh.gone=", "f:o/.wh..wh..opq=", "s:l>x");
        int[] n = new int[1];
        LayerScan.Result r = scan(tar, n);
        assertEquals(tar.length, n[0]);
        assertEquals(Set.of("/a"), r.explicitDirs.keySet());
        assertEquals(Set.of("/", "/b", "/b/c", "/o"), r.impliedDirs);
        assertEquals(Set.of("/a/gone"), r.whiteouts);
        assertEquals(Set.of("/o"), r.opaque);
        assertTrue(r.nonDirs.containsAll(List.of("/a/x", "/b/c/y", "/l")));
        assertFalse(r.completedEnd);
    }

    @Test
    void completesATarThatStopsAfterAnEntryOnly() throws IOException {
        byte[] full = SourceTreeTest.tar("f:a=hello", "f:b=world!");
        int cut = 512 * 3 + 6;
        int[] n = new int[1];
        LayerScan.Result r = scan(Arrays.copyOf(full, cut), n);
        assertTrue(r.completedEnd);
        assertEquals(512 * 4 + 1024, n[0]);
        // cut inside the data of b: nothing is made up
        r = scan(Arrays.copyOf(full, cut - 2), n);
        assertFalse(r.completedEnd);
        assertEquals(cut - 2, n[0]);
    }

    @Test
    void repairRestatesDirectoriesAnUpperLayerOnlyImplies() throws IOException {
        int[] n = new int[1];
        LayerScan.Result l1 = scan(SourceTreeTest.tar("d:.", "d:a", "d:a/b", "f:a/b/x=1", "d:c"), n);
        LayerScan.Result l2 = scan(SourceTreeTest.tar("f:a/b/y=2"), n);
        Map<String, LayerScan.DirAttrs> plan = DirectoryRepair.plan(List.of(l1, l2));
        assertEquals(List.of("/", "/a", "/a/b"), List.copyOf(plan.keySet()));
        assertEquals(DirectoryRepair.plan(List.of(l1)), Map.of(), "one layer needs nothing");
        // a directory removed and then only implied again takes made-up attributes: nothing to restate
        LayerScan.Result l3 = scan(SourceTreeTest.tar("f:.wh.c=", "d:.", "d:a", "d:a/b"), n);
        LayerScan.Result l4 = scan(SourceTreeTest.tar("d:.", "d:a", "d:a/b", "f:c/z=3"), n);
        assertEquals(Map.of(), DirectoryRepair.plan(List.of(l1, l3, l4)));
        // the restating tar parses back to the same attributes
        byte[] tar = DirectoryRepair.tar(plan);
        LayerScan.Result back = scan(tar, n);
        assertEquals(plan.keySet(), back.explicitDirs.keySet());
        LayerScan.DirAttrs a = plan.get("/a");
        LayerScan.DirAttrs b = back.explicitDirs.get("/a");
        assertEquals(a.mode(), b.mode());
        assertEquals(a.mtimeSec(), b.mtimeSec());
        assertArrayEquals(new long[] {a.uid(), a.gid()}, new long[] {b.uid(), b.gid()});
    }
}
