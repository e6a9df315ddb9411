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
    /**
     * Per source, the directories its layer only implied ({@link CreateResult#implicitDirs()}): they keep the
     * attributes of the layers below instead of made-up ones. Null or missing entries: none.
     */
    public List<java.util.Set<String>> implicitDirs;
    /**
     * Per source, the bootstrap as its build left it in memory ({@link CreateResult#built()}), used instead of reading
     * the file; null or missing entries: read the file.
     */
    public List<BuiltBootstrap> built;
}
