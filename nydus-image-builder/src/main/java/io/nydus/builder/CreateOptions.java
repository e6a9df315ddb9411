package io.nydus.builder;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code nydus-image create} builds and where it writes it. Defaults follow upstream (v6, zstd, 1 MiB chunks)
 * except the digester: see the README for the measurement behind SHA-256.
 */
public final class CreateOptions {
    /** Where the layer comes from. */
    public enum SourceType { DIRECTORY, TAR }

    public static final int DEFAULT_CHUNK_SIZE = 0x100000;
    public static final Digester DEFAULT_DIGESTER = Digester.SHA256;

    public SourceType sourceType = SourceType.DIRECTORY;
    /** Source directory or tar file; ignored when {@link #sourceStream} is set. */
    public Path source;
    public InputStream sourceStream;
    public RafsVersion fsVersion = RafsVersion.V6;
    public Compressor compressor = Compressor.ZSTD;
    public Digester digester = DEFAULT_DIGESTER;
    public int chunkSize = DEFAULT_CHUNK_SIZE;
    public Path bootstrap;
    public Path blob;
    /**
     * Receives every byte of the new blob as it is written, in order (nydusify sends them to the registry while the
     * build runs); the caller closes it. Null = none.
     */
    public java.io.OutputStream blobCopy;
    public Path blobDir;
    public boolean blobInlineMeta;
    public boolean blobToc;
    public String blobId;
    public WhiteoutSpec whiteoutSpec = WhiteoutSpec.OCI;
    public Path parentBootstrap;
    public List<Path> chunkDicts = new ArrayList<>();
    /** Absolute paths to list in the prefetch table ({@code --prefetch-policy fs}); null = no prefetch table. */
    public List<String> prefetchPatterns;
    /** Record owners ({@code false} with {@code --repeatable}). */
    public boolean explicitUidGid = true;
    /** 4 KiB-align uncompressed chunk offsets in v5 (always on for v6). */
    public boolean alignedChunk;
    public int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
}
