package io.nydus.builder.cli;

import io.nydus.builder.MergeOptions;
import io.nydus.builder.Merger;
import io.nydus.rafs.BlobInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge per-layer bootstraps (lowest first) into one image bootstrap, applying OCI whiteouts.")
final class MergeCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Parameters(paramLabel = "SOURCE", arity = "1..*", description = "Layer bootstraps, lowest layer first.")
    List<Path> sources;

    @Option(names = {"-B", "--bootstrap"}, required = true, description = "Output bootstrap.")
    Path bootstrap;

    @Option(names = {"-p", "--parent-bootstrap"}, description = "Bootstrap of layers below the sources.")
    Path parentBootstrap;

    @Option(names = {"-D", "--blob-dir"}, description = "Directory of the blobs (accepted for compatibility).")
    Path blobDir;

    @Option(names = {"-M", "--chunk-dict"}, description = "Chunk dictionary bootstrap (accepted for compatibility).")
    List<String> chunkDicts = new ArrayList<>();

    @Option(names = {"-P", "--prefetch-policy"}, defaultValue = "none",
            description = "fs: read absolute paths to prefetch from stdin; none (default: ${DEFAULT-VALUE}).")
    String prefetchPolicy;

    @Option(names = {"-J", "--output-json"}, description = "Write a JSON summary to this file.")
    Path outputJson;

    @Option(names = "--blob-digests", description = "Comma-separated blob digests, one per source: the blob ids.")
    String blobDigests;

    @Option(names = "--original-blob-ids", description = "Comma-separated blob ids, one per source.")
    String originalBlobIds;

    @Option(names = "--blob-sizes", description = "Comma-separated blob sizes, one per source.")
    String blobSizes;

    @Option(names = "--blob-toc-digests", description = "Comma-separated TOC digests, one per source.")
    String blobTocDigests;

    @Option(names = "--blob-toc-sizes", description = "Comma-separated TOC sizes, one per source.")
    String blobTocSizes;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        MergeOptions o = new MergeOptions();
        o.sources = sources;
        o.bootstrap = bootstrap;
        o.parentBootstrap = parentBootstrap;
        for (String d : chunkDicts) {
            o.chunkDicts.add(Args.chunkDict(d));
        }
        if (blobDigests != null) {
            o.blobDigests = Args.commaList(blobDigests);
        }
        if (originalBlobIds != null) {
            o.originalBlobIds = Args.commaList(originalBlobIds);
        }
        if (blobSizes != null) {
            o.blobSizes = Args.commaList(blobSizes).stream().map(Long::parseLong).toList();
        }
        if (blobTocDigests != null) {
            o.blobTocDigests = Args.commaList(blobTocDigests);
        }
        if (blobTocSizes != null) {
            o.blobTocSizes = Args.commaList(blobTocSizes).stream().map(Long::parseLong).toList();
        }
        if (prefetchPolicy.equals("fs")) {
            o.prefetchPatterns = Args.stdinLines();
        } else if (!prefetchPolicy.equals("none") && !prefetchPolicy.equals("blob")) {
            throw new IllegalArgumentException("invalid --prefetch-policy '" + prefetchPolicy + "' (fs, blob, none)");
        }
        Merger.Result r = Merger.merge(o);
        if (outputJson != null) {
            List<String> ids = r.blobs().stream().map(BlobInfo::blobId).toList();
            String compressor = r.blobs().isEmpty() ? "none" : r.blobs().get(0).compressor().cliName();
            Json.write(outputJson, Json.output(r.bootstrap(), ids, r.version().number(), compressor));
        }
        return 0;
    }
}
