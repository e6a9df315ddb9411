package io.nydus.nydusify;

import io.nydus.nydusify.oci.Platform;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.RafsVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** What {@code nydusify convert} builds and how it talks to the registries; defaults follow upstream nydusify. */
public final class ConvertOptions {
    public RafsVersion fsVersion = RafsVersion.V6;
    public Compressor compressor = Compressor.ZSTD;
    public int chunkSize = 0x100000;
    /** {@code bootstrap:registry:REF} or {@code bootstrap:local:PATH}. */
    public List<String> chunkDicts = new ArrayList<>();
    /** Paths for the prefetch table; upstream passes "/" when the user gives none. */
    public List<String> prefetchPatterns = List.of("/");
    public List<Platform> platforms = new ArrayList<>(List.of(new Platform("linux", "amd64", null)));
    public boolean allPlatforms;
    /** Keep the source manifests next to the nydus ones in one index. */
    public boolean mergePlatform;
    /** Force OCI media types (else the source's are kept). */
    public boolean oci;
    /** Force Docker schema 2 media types. */
    public boolean dockerV2;
    public Path workDir;
    public int pushRetryCount = 3;
    public Duration pushRetryDelay = Duration.ofSeconds(5);
    /** Layers converted at once; each conversion already compresses on every core. */
    public int parallelLayers = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    public RegistryOptions source = RegistryOptions.anonymous(false);
    public RegistryOptions target = RegistryOptions.anonymous(false);
}
