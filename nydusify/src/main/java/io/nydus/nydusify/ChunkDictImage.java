package io.nydus.nydusify;

import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chunk dictionary ({@code --chunk-dict}): the bootstrap of a nydus image whose chunks new blobs reuse instead of
 * storing again. {@code bootstrap:registry:REF} names a nydus image (any reference form); its blobs are where the
 * converted image's reused chunks live, so they are mounted or copied into the target. {@code bootstrap:local:PATH}
 * names a bootstrap file; the blobs it references must already be in the target.
 */
public final class ChunkDictImage implements AutoCloseable {
    private final String spec;
    private final Path bootstrap;
    private final ImageStore store;
    private final Map<String, Descriptor> blobs;

    private ChunkDictImage(String spec, Path bootstrap, ImageStore store, Map<String, Descriptor> blobs) {
        this.spec = spec;
        this.bootstrap = bootstrap;
        this.store = store;
        this.blobs = blobs;
    }

    public static ChunkDictImage open(String spec, ConvertOptions options, ImageReference source, Path workDir)
            throws IOException {
        if (spec.startsWith("bootstrap:local:")) {
            Path p = Path.of(spec.substring("bootstrap:local:".length()));
            if (!Files.isRegularFile(p)) {
                throw new NydusifyException("chunk dict " + spec + ": " + p + " is not a file");
            }
            return new ChunkDictImage(spec, p, null, Map.of());
        }
        if (!spec.startsWith("bootstrap:registry:")) {
            throw new NydusifyException("chunk dict '" + spec
                    + "' must be bootstrap:registry:<image reference> or bootstrap:local:<bootstrap file>");
        }
        ImageReference ref;
        try {
            ref = ImageReference.parse(spec.substring("bootstrap:registry:".length()));
        } catch (IllegalArgumentException e) {
            throw new NydusifyException("chunk dict " + spec + ": " + e.getMessage());
        }
        RegistryOptions ro = options.source;
        if (ref.isRegistry() && !ref.sameRegistry(source)) {
            ro = new RegistryOptions(ro.plainHttp(), ro.insecure(), null, null, ro.retryLimit());
        }
        ImageStore store = ImageStores.open(ref, ro, workDir, false);
        try {
            Manifest top = store.manifest(ref.reference());
            Manifest m = top;
            if (PlatformFilter.isIndex(top)) {
                ImageIndex idx = ImageIndex.parse(top.bytes(), "chunk dict index " + ref);
                PlatformFilter f = new PlatformFilter(options.platforms, false);
                List<Descriptor> nydus = f.select(idx, true);
                if (nydus.isEmpty()) {
                    nydus = f.select(idx, null);
                }
                if (nydus.isEmpty()) {
                    throw new NydusifyException("chunk dict " + ref + ": no manifest for " + f.describe());
                }
                m = store.manifest(nydus.get(0).digest);
            }
            ImageManifest manifest = ImageManifest.parse(m.bytes(), "chunk dict manifest " + ref);
            if (!manifest.isNydus()) {
                throw new NydusifyException("chunk dict " + ref + " is not a nydus image (its last layer is no bootstrap)");
            }
            Path boot = Files.createTempFile(workDir, "chunk-dict-", ".boot");
            Descriptor layer = manifest.bootstrapLayer();
            try (InputStream in = store.openBlob(layer)) {
                BootstrapLayer.read(in, boot, "chunk dict " + ref + " bootstrap layer " + layer.digest);
            }
            Map<String, Descriptor> blobs = new LinkedHashMap<>();
            for (Descriptor d : manifest.layers.subList(0, manifest.layers.size() - 1)) {
                blobs.put(d.hex(), d);
            }
            return new ChunkDictImage(spec, boot, store, blobs);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public String spec() {
        return spec;
    }

    public Path bootstrap() {
        return bootstrap;
    }

    /** Where the dictionary's blobs can be read (null for a local bootstrap). */
    public ImageStore store() {
        return store;
    }

    /** The dictionary image's blob layer for a blob id, or null. */
    public Descriptor blob(String blobId) {
        return blobs.get(blobId);
    }

    @Override
    public void close() throws IOException {
        if (store != null) {
            store.close();
        }
    }
}
