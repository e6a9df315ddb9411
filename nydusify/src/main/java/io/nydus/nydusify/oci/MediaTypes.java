package io.nydus.nydusify.oci;

import java.util.Set;

/** Media types and annotation keys of OCI / Docker schema 2 images and of nydus images (notes §7). */
public final class MediaTypes {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String OCI_LAYER_NONDIST_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public static final String OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public static final String OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    public static final String DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    public static final String NYDUS_BLOB = "application/vnd.oci.image.layer.nydus.blob.v1";
    /** Config media type of the nydus manifest of a merged index: plain containerd must not pick it. */
    public static final String NYDUS_CONFIG = "application/vnd.nydus.image.config.v1+json";
    /** {@code artifactType} of the nydus entry of a merged index (nydus 2.3.5 and later). */
    public static final String NYDUS_ARTIFACT = "application/vnd.nydus.image.manifest.v1+json";
    /** {@code platform.os.features} entry that marked the nydus entry before {@link #NYDUS_ARTIFACT}. */
    public static final String NYDUS_OS_FEATURE = "nydus.remoteimage.v1";

    public static final String ANNOTATION_NYDUS_BLOB = "containerd.io/snapshot/nydus-blob";
    public static final String ANNOTATION_NYDUS_BOOTSTRAP = "containerd.io/snapshot/nydus-bootstrap";
    public static final String ANNOTATION_NYDUS_FS_VERSION = "containerd.io/snapshot/nydus-fs-version";
    public static final String ANNOTATION_UNCOMPRESSED = "containerd.io/uncompressed";
    public static final String ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

    /** Layer types nydusify reads: plain, gzip and zstd tars. */
    private static final Set<String> TAR_LAYERS = Set.of(OCI_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
            OCI_LAYER_NONDIST_TAR, OCI_LAYER_NONDIST_GZIP, OCI_LAYER_NONDIST_ZSTD, DOCKER_LAYER_GZIP,
            DOCKER_LAYER_ZSTD, DOCKER_LAYER_FOREIGN_GZIP);

    private MediaTypes() {
    }

    public static boolean isTarLayer(String mediaType) {
        return TAR_LAYERS.contains(mediaType);
    }

    public static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
    }

    public static boolean isManifest(String mediaType) {
        return OCI_MANIFEST.equals(mediaType) || DOCKER_MANIFEST.equals(mediaType);
    }

    public static boolean isDocker(String mediaType) {
        return mediaType != null && mediaType.startsWith("application/vnd.docker.");
    }
}
