package io.nydus.snapshotter;

import static io.nydus.snapshotter.LayerLabels.Action.MOUNT_NYDUS;
import static io.nydus.snapshotter.LayerLabels.Action.NATIVE;
import static io.nydus.snapshotter.LayerLabels.Action.SKIP_REMOTE_LAYER;
import static io.nydus.snapshotter.LayerLabels.Action.UNPACK;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Labels → what a Prepare does (upstream snapshot/process.go). */
class LayerLabelsTest {
    private static final String REF = "containerd.io/snapshot.ref";

    private static Snapshot committed(long id, Map<String, String> labels) {
        return new Snapshot(id, "n" + id, "", Kind.COMMITTED, labels, Instant.EPOCH, Instant.EPOCH, 0, 0, List.of());
    }

    private static final Snapshot DATA = committed(1, Map.of(LayerLabels.NYDUS_DATA_LAYER, "true", REF, "c1"));
    private static final Snapshot META = committed(2, Map.of(LayerLabels.NYDUS_META_LAYER, "true", REF, "c2"));
    private static final Snapshot OCI = committed(3, Map.of(REF, "c3"));

    @Test
    void layersBeingPulled() {
        assertEquals(SKIP_REMOTE_LAYER, LayerLabels.decide(Map.of(REF, "c", LayerLabels.NYDUS_DATA_LAYER, "true"),
                List.of(), true));
        // Data layers are never downloaded, even where no daemon may run: containerd could not apply them anyway.
        assertEquals(SKIP_REMOTE_LAYER, LayerLabels.decide(Map.of(REF, "c", LayerLabels.NYDUS_DATA_LAYER, "true"),
                List.of(DATA), false));
        assertEquals(UNPACK, LayerLabels.decide(Map.of(REF, "c", LayerLabels.NYDUS_META_LAYER, "true"),
                List.of(DATA), true));
        assertEquals(UNPACK, LayerLabels.decide(Map.of(REF, "c"), List.of(), true));
        // A layer pulled on top of a nydus image (a derived image) is still unpacked, not mounted.
        assertEquals(UNPACK, LayerLabels.decide(Map.of(REF, "c"), List.of(META, DATA), true));
    }

    @Test
    void containerRootfs() {
        assertEquals(MOUNT_NYDUS, LayerLabels.decide(Map.of(), List.of(META, DATA), true));
        assertEquals(NATIVE, LayerLabels.decide(Map.of(), List.of(META, DATA), false), "daemon mode none");
        assertEquals(NATIVE, LayerLabels.decide(Map.of(), List.of(OCI), true));
        assertEquals(NATIVE, LayerLabels.decide(Map.of(), List.of(), true));
        assertEquals(NATIVE, LayerLabels.decide(Map.of(), List.of(DATA), true), "no bootstrap yet: nothing to mount");
        // The nearest bootstrap layer wins; layers above it (committed container changes) do not hide it.
        Snapshot otherMeta = committed(4, Map.of(LayerLabels.NYDUS_META_LAYER, "true"));
        assertEquals(META, LayerLabels.nearestMetaLayer(List.of(OCI, META, otherMeta)).orElseThrow());
        assertEquals(MOUNT_NYDUS, LayerLabels.decide(Map.of(), List.of(OCI, META, DATA), true));
    }

    @Test
    void onlyCommittedBootstrapLayersCount() {
        Snapshot unpacking = new Snapshot(5, "k", "", Kind.ACTIVE, Map.of(LayerLabels.NYDUS_META_LAYER, "true"),
                Instant.EPOCH, Instant.EPOCH, 0, 0, List.of());
        assertEquals(NATIVE, LayerLabels.decide(Map.of(), List.of(unpacking), true));
    }
}
