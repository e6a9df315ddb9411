package io.nydus.builder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Inputs of {@code nydus-image merge}; the per-layer lists are indexed like the source bootstraps. */
public final class MergeOptions {
    public List<Path> sources = new ArrayList<>();
    public Path bootstrap;
    public Path parentBootstrap;
    public List<Path> chunkDicts = new ArrayList<>();
    public List<String> prefetchPatterns;
    public List<String> blobDigests;
    public List<String> originalBlobIds;
    public List<Long> blobSizes;
    public List<String> blobTocDigests;
    public List<Long> blobTocSizes;
}
