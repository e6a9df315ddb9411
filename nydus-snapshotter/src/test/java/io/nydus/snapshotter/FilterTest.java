package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** containerd's filter syntax and matching rules over snapshot fields. */
class FilterTest {
    private static final Snapshot S = new Snapshot(7, "ns/7/sha256:abc", "ns/6/sha256:def", Kind.COMMITTED,
            Map.of("containerd.io/snapshot.ref", "sha256:abc", "a.b", "x y", "empty", ""), Instant.EPOCH,
            Instant.EPOCH, 0, 0, List.of());
    private static final Snapshot ROOT = new Snapshot(1, "base", "", Kind.ACTIVE, Map.of(), Instant.EPOCH,
            Instant.EPOCH, 0, 0, List.of());

    private static boolean m(String f, Snapshot s) {
        return Filter.parse(f).matches(s);
    }

    @Test
    void matchesLikeContainerd() {
        assertTrue(m("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"ns/6/sha256:def\"", S));
        assertFalse(m("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"x\"", S));
        assertTrue(m("kind==committed", S));
        assertTrue(m("labels.a.b==\"x y\"", S), "dotted label keys join the rest of the path");
        assertTrue(m("labels.empty", S));
        assertFalse(m("labels.missing", S));
        assertTrue(m("labels.missing!=x", S), "!= treats an absent field as empty");
        assertTrue(m("name~=/^ns\\/7/", S));
        assertTrue(m("name~=|sha256:a.c|", S));
        assertTrue(m("parent==\"\"", ROOT), "parent is always present, empty for a base layer");
        assertFalse(m("labels.x", ROOT));
        assertTrue(m(" kind == active ", ROOT));
        assertTrue(Filter.anyOf(List.of("kind==view", "name==base")).test(ROOT));
        assertTrue(Filter.anyOf(List.of()).test(ROOT));
    }

    @Test
    void syntaxErrorsNameTheOffset() {
        SnapshotException e = assertThrows(SnapshotException.class, () -> Filter.parse("name=="));
        assertEquals(SnapshotException.Code.INVALID_ARGUMENT, e.code());
        assertEquals("filter \"name==\" at offset 6: expected value", e.getMessage());
        assertThrows(SnapshotException.class, () -> Filter.parse("labels.\"open"));
        assertThrows(SnapshotException.class, () -> Filter.parse("name=x"));
        assertThrows(SnapshotException.class, () -> Filter.parse("name~=/(/"));
        assertThrows(SnapshotException.class, () -> Filter.parse(",name"));
    }
}
