package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code create} produced.
 *
 * @param bootstrap   the bootstrap file written (null when only an inline bootstrap was produced)
 * @param blob        the new data blob, null when the layer had no new chunk and no inline meta
 * @param blobPath    where the new blob was written
 * @param blobDigest  {@code sha256:<hex>} of the whole blob file (its OCI layer digest), null with no new blob
 * @param blobs       the bootstrap's blob table
 * @param implicitDirs directories the layer only implied (no entry described them): {@code merge} must keep the
 *                     lower layers' attributes for them, see {@link MergeOptions#implicitDirs}
 * @param built       the bootstrap as written, in memory, for one {@link Merger} to use instead of the file
 */
public record CreateResult(Path bootstrap, BlobInfo blob, Path blobPath, String blobDigest, List<BlobInfo> blobs,
        long files, long chunks, long dedupedChunks, long dedupedBytes, List<String> warnings, java.util.Set<String> implicitDirs,
        BuiltBootstrap built) {
}
