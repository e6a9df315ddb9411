package io.nydus.snapshotter.pull;

import io.nydus.snapshotter.LayerLabels;
import io.nydus.snapshotter.RegistryCredentials;
import io.nydus.snapshotter.api.types.Descriptor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The labels of the Prepare and Commit of one layer, as containerd's unpacker sends them when CRI pulls for a
 * remote snapshotter ({@code snapshotters.AppendInfoHandlerWrapper} + {@code snapshots.FilterInheritedLabels}):
 * the layer's {@code containerd.io/snapshot/*} annotations (nydus-blob, nydus-bootstrap, …), the {@code cri.*}
 * labels naming image, manifest and layer, and {@code containerd.io/snapshot.ref} = the chain id to commit as.
 * From these the snapshotter decides whether the layer is fetched at all.
 */
final class UnpackLabels {
    private static final String INHERITED_PREFIX = "containerd.io/snapshot/";
    static final String CRI_IMAGE_LAYERS = "containerd.io/snapshot/cri.image-layers";
    /** containerd refuses a label whose key and value together exceed this. */
    private static final int MAX_LABEL = 4096;

    private UnpackLabels() {
    }

    /**
     * @param layers     every layer of the manifest
     * @param pullSecret the credentials given to this pull, passed on (as {@code pullusername} and
     *                   {@code pullsecret}) only to a nydus bootstrap layer, whose nydusd must read the registry with
     *                   them; null when the pull had none of its own
     */
    static Map<String, String> forLayer(ImageName image, String manifestDigest, List<Descriptor> layers, int index,
            String chainId, RegistryCredentials.Credential pullSecret) {
        Descriptor layer = layers.get(index);
        Map<String, String> labels = new LinkedHashMap<>();
        layer.getAnnotationsMap().forEach((k, v) -> {
            if (k.startsWith(INHERITED_PREFIX)) {
                labels.put(k, v);
            }
        });
        labels.put(LayerLabels.CRI_IMAGE_REF, image.name());
        labels.put(LayerLabels.CRI_LAYER_DIGEST, layer.getDigest());
        labels.put(CRI_IMAGE_LAYERS, layersFrom(layers, index));
        labels.put(LayerLabels.CRI_MANIFEST_DIGEST, manifestDigest);
        if (pullSecret != null && !pullSecret.isToken() && LayerLabels.isNydusMetaLayer(labels)) {
            labels.put(LayerLabels.PULL_USERNAME, pullSecret.username());
            labels.put(LayerLabels.PULL_SECRET, pullSecret.secret());
        }
        labels.put(LayerLabels.TARGET_SNAPSHOT_REF, chainId);
        return labels;
    }

    /** This layer's digest and those after it, comma-separated, as many as fit in one label (as CRI does). */
    private static String layersFrom(List<Descriptor> layers, int index) {
        StringBuilder b = new StringBuilder();
        for (Descriptor l : layers.subList(index, layers.size())) {
            String item = (b.length() == 0 ? "" : ",") + l.getDigest();
            if (CRI_IMAGE_LAYERS.length() + b.length() + item.length() > MAX_LABEL) {
                break;
            }
            b.append(item);
        }
        return b.toString();
    }
}
