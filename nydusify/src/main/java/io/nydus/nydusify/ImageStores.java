package io.nydus.nydusify;

import io.nydus.blobcache.registry.RegistryClient;
import java.io.IOException;
import java.nio.file.Path;

/** Opens the {@link ImageStore} an {@link ImageReference} names. */
public final class ImageStores {
    private ImageStores() {
    }

    /**
     * @param forWriting create the layout or archive when missing
     * @param workDir    where an OCI archive is unpacked
     */
    public static ImageStore open(ImageReference ref, RegistryOptions options, Path workDir, boolean forWriting)
            throws IOException {
        return switch (ref.kind()) {
            case REGISTRY -> new RegistryStore(new RegistryClient(options.settings(ref.apiHost())), ref.host(),
                    ref.repository());
            case OCI_LAYOUT -> forWriting ? OciLayout.create(ref.path()) : OciLayout.open(ref.path());
            case OCI_ARCHIVE -> forWriting ? OciArchive.create(ref.path(), workDir) : OciArchive.open(ref.path(), workDir);
        };
    }
}
