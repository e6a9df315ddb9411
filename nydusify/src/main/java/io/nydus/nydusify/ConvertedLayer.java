package io.nydus.nydusify;

import io.nydus.builder.BuiltBootstrap;
import io.nydus.nydusify.oci.Descriptor;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One source layer after conversion: the nydus data blob (whose sha256 is its layer digest and, after merge, its
 * blob id), the layer's own bootstrap (whiteouts kept), and for RAFS v6 the blob meta cache file shipped in the
 * bootstrap layer.
 *
 * @param source            the OCI layer it came from
 * @param blob              descriptor of the nydus blob layer
 * @param blobMeta          {@code <blob id>.blob.meta} content; null for RAFS v5
 * @param uncompressedBytes size of the layer's tar stream
 * @param implicitDirs      directories the layer only implies: the merge keeps the lower layers' attributes
 * @param built             the bootstrap as the build left it in memory, until a merge takes it
 */
public record ConvertedLayer(Descriptor source, Descriptor blob, Path blobFile, Path bootstrap, byte[] blobMeta,
        long uncompressedBytes, long chunks, long dedupedChunks, double seconds, java.util.Set<String> implicitDirs,
        AtomicReference<BuiltBootstrap> built) {

    /**
     * The in-memory bootstrap for the first merge that asks (a merge takes the tree apart); null afterwards, when a
     * layer shared by several platforms is merged again from its file.
     */
    public BuiltBootstrap takeBuilt() {
        return built.getAndSet(null);
    }
}
