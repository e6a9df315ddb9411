package io.nydus.snapshotter.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.snapshotter.LayerLabels;
import io.nydus.snapshotter.RegistryCredentials;
import io.nydus.snapshotter.api.types.Descriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The labels each layer's Prepare carries, and what the snapshotter decides from them: nydus data layers skipped,
 * the bootstrap layer and OCI layers unpacked.
 */
class UnpackLabelsTest {
    private static final ImageName IMAGE = ImageName.parse("127.0.0.1:5000/test/app:nydus");
    private static final String MANIFEST = "sha256:" + "1".repeat(64);

    private static Descriptor layer(char c, String mediaType, Map<String, String> annotations) {
        return Descriptor.newBuilder().setMediaType(mediaType).setDigest("sha256:" + String.valueOf(c).repeat(64))
                .setSize(10).putAllAnnotations(annotations).build();
    }

    private static final List<Descriptor> NYDUS = List.of(
            layer('a', "application/vnd.oci.image.layer.nydus.blob.v1", Map.of(LayerLabels.NYDUS_DATA_LAYER, "true")),
            layer('b', "application/vnd.oci.image.layer.v1.tar+gzip", Map.of(LayerLabels.NYDUS_META_LAYER, "true",
                    "containerd.io/snapshot/nydus-fs-version", "6", "org.opencontainers.image.title", "bootstrap")));

    @Test
    void aNydusImageAsCriLabelsIt() {
        Map<String, String> data = UnpackLabels.forLayer(IMAGE, MANIFEST, NYDUS, 0, "sha256:chain0", null);
        assertEquals(Map.of(LayerLabels.NYDUS_DATA_LAYER, "true",
                LayerLabels.CRI_IMAGE_REF, "127.0.0.1:5000/test/app:nydus",
                LayerLabels.CRI_LAYER_DIGEST, NYDUS.get(0).getDigest(),
                UnpackLabels.CRI_IMAGE_LAYERS, NYDUS.get(0).getDigest() + "," + NYDUS.get(1).getDigest(),
                LayerLabels.CRI_MANIFEST_DIGEST, MANIFEST,
                LayerLabels.TARGET_SNAPSHOT_REF, "sha256:chain0"), data);
        assertEquals(LayerLabels.Action.SKIP_REMOTE_LAYER, LayerLabels.decide(data, List.of(), true));

        Map<String, String> meta = UnpackLabels.forLayer(IMAGE, MANIFEST, NYDUS, 1, "sha256:chain1", null);
        assertEquals("6", meta.get("containerd.io/snapshot/nydus-fs-version"));
        assertFalse(meta.containsKey("org.opencontainers.image.title"), "only containerd.io/snapshot/ annotations");
        assertEquals(NYDUS.get(1).getDigest(), meta.get(UnpackLabels.CRI_IMAGE_LAYERS), "this layer and later ones");
        assertEquals(LayerLabels.Action.UNPACK, LayerLabels.decide(meta, List.of(), true));
    }

    @Test
    void pullCredentialsGoOnlyToTheBootstrapLayer() {
        RegistryCredentials.Credential alice = new RegistryCredentials.Credential("alice", "s3cret");
        Map<String, String> data = UnpackLabels.forLayer(IMAGE, MANIFEST, NYDUS, 0, "sha256:c0", alice);
        assertFalse(data.containsKey(LayerLabels.PULL_SECRET));
        Map<String, String> meta = UnpackLabels.forLayer(IMAGE, MANIFEST, NYDUS, 1, "sha256:c1", alice);
        assertEquals("alice", meta.get(LayerLabels.PULL_USERNAME));
        assertEquals("s3cret", meta.get(LayerLabels.PULL_SECRET));
        assertEquals(alice, new RegistryCredentials(Map.of(), null).find("127.0.0.1:5000", meta).orElseThrow(),
                "the snapshotter reads them back for nydusd");
    }

    @Test
    void theLayerListIsCutToFitOneLabel() {
        List<Descriptor> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add(Descriptor.newBuilder().setMediaType("application/vnd.oci.image.layer.v1.tar+gzip")
                    .setDigest(String.format("sha256:%064x", i)).build());
        }
        String list = UnpackLabels.forLayer(IMAGE, MANIFEST, many, 0, "sha256:c", null)
                .get(UnpackLabels.CRI_IMAGE_LAYERS);
        assertTrue(UnpackLabels.CRI_IMAGE_LAYERS.length() + list.length() <= 4096, list.length() + "");
        assertEquals(many.get(0).getDigest(), list.substring(0, 71));
        // a digest is 71 characters, each further one takes a comma more
        int fit = 1 + (4096 - UnpackLabels.CRI_IMAGE_LAYERS.length() - 71) / 72;
        assertEquals(fit, list.split(",").length);
    }
}
