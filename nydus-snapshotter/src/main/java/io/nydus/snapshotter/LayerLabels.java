package io.nydus.snapshotter;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The snapshot labels the snapshotter acts on (upstream {@code pkg/label}) and the decision each Prepare gets.
 * containerd copies layer annotations prefixed {@code containerd.io/snapshot/} into the Prepare labels and adds
 * {@code containerd.io/snapshot.ref} (the chain id to commit as) while pulling.
 */
public final class LayerLabels {
    /** Set by containerd on a layer being pulled: the name the unpacked layer is committed as. */
    public static final String TARGET_SNAPSHOT_REF = "containerd.io/snapshot.ref";
    /** Annotation of a nydus data layer (a blob read lazily by nydusd; never unpacked). */
    public static final String NYDUS_DATA_LAYER = "containerd.io/snapshot/nydus-blob";
    /** Annotation of the nydus bootstrap layer (a tar holding {@code image/image.boot}). */
    public static final String NYDUS_META_LAYER = "containerd.io/snapshot/nydus-bootstrap";
    /** The image reference CRI (and nerdctl) attach to every layer ({@code snapshotters.TargetRefLabel}). */
    public static final String CRI_IMAGE_REF = "containerd.io/snapshot/cri.image-ref";
    public static final String CRI_LAYER_DIGEST = "containerd.io/snapshot/cri.layer-digest";
    public static final String CRI_MANIFEST_DIGEST = "containerd.io/snapshot/cri.manifest-digest";
    /** BuildKit passes the reference under stargz's name; upstream accepts it too. */
    public static final String STARGZ_REFERENCE = "containerd.io/snapshot/remote/stargz.reference";
    /** Credentials for this pull passed as labels (upstream {@code pullusername} / {@code pullsecret}). */
    public static final String PULL_USERNAME = "containerd.io/snapshot/pullusername";
    public static final String PULL_SECRET = "containerd.io/snapshot/pullsecret";
    /** Per-snapshot request for a {@code volatile} overlay upper layer. */
    public static final String OVERLAY_VOLATILE = "containerd.io/snapshot/overlay.volatile";

    /** What a Prepare does. */
    public enum Action {
        /** Commit an empty snapshot under the target name and answer AlreadyExists: nothing is downloaded. */
        SKIP_REMOTE_LAYER,
        /** Hand containerd a directory to unpack into (OCI layers and the nydus bootstrap layer). */
        UNPACK,
        /** A container rootfs over a nydus image: start or reuse nydusd and overlay its mountpoint. */
        MOUNT_NYDUS,
        /** A writable or view snapshot of an ordinary image: the overlayfs snapshotter's mounts. */
        NATIVE
    }

    private LayerLabels() {
    }

    public static boolean isNydusDataLayer(Map<String, String> labels) {
        return labels.containsKey(NYDUS_DATA_LAYER);
    }

    public static boolean isNydusMetaLayer(Map<String, String> labels) {
        return labels.containsKey(NYDUS_META_LAYER);
    }

    /** The commit target of a layer being pulled, if this Prepare is one. */
    public static Optional<String> target(Map<String, String> labels) {
        String t = labels.get(TARGET_SNAPSHOT_REF);
        return t == null || t.isEmpty() ? Optional.empty() : Optional.of(t);
    }

    /**
     * Decides a Prepare (upstream {@code snapshot/process.go}): a layer being pulled (target label present) is
     * skipped when it is a nydus data layer and unpacked otherwise, the bootstrap layer included; a snapshot
     * that is not being pulled mounts nydus when its nearest nydus bootstrap layer exists in its parent chain.
     *
     * @param parents the parent chain, nearest first
     * @param nydusEnabled false in daemon mode {@code none}: no daemon is ever started
     */
    public static Action decide(Map<String, String> labels, List<Snapshot> parents, boolean nydusEnabled) {
        if (target(labels).isPresent()) {
            if (isNydusMetaLayer(labels)) {
                return Action.UNPACK;
            }
            return isNydusDataLayer(labels) ? Action.SKIP_REMOTE_LAYER : Action.UNPACK;
        }
        if (nydusEnabled && nearestMetaLayer(parents).isPresent()) {
            return Action.MOUNT_NYDUS;
        }
        return Action.NATIVE;
    }

    /**
     * The image a nydus bootstrap layer belongs to, from the labels its pull carried: CRI's and nerdctl's
     * {@code cri.image-ref}, or BuildKit's stargz reference label (as upstream).
     */
    public static Optional<ImageReference> imageReference(Snapshot meta) {
        for (String key : new String[] {CRI_IMAGE_REF, STARGZ_REFERENCE}) {
            String v = meta.label(key);
            if (v != null && !v.isEmpty()) {
                try {
                    return Optional.of(ImageReference.parse(v));
                } catch (IllegalArgumentException e) {
                    throw SnapshotException.invalidArgument(key + " of snapshot " + meta.name() + ": " + e.getMessage());
                }
            }
        }
        return Optional.empty();
    }

    /** The nearest snapshot in {@code parents} (nearest first) that is a committed nydus bootstrap layer. */
    public static Optional<Snapshot> nearestMetaLayer(List<Snapshot> parents) {
        for (Snapshot p : parents) {
            if (p.kind() == Kind.COMMITTED && isNydusMetaLayer(p.labels())) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
