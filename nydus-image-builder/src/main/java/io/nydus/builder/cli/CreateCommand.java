package io.nydus.builder.cli;

import io.nydus.builder.CreateOptions;
import io.nydus.builder.CreateResult;
import io.nydus.builder.ImageCreator;
import io.nydus.builder.WhiteoutSpec;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create a RAFS image (bootstrap + data blob) from a directory or a layer tar (tar, tar.gz, tar.zst).")
final class CreateCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SOURCE", description = "Source directory or tar file ('-' reads the tar from stdin).")
    String source;

    @Option(names = {"-t", "--type", "--source-type"}, defaultValue = "dir-rafs",
            description = "Source type: dir-rafs (alias directory), tar-rafs, targz-rafs (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = {"-B", "--bootstrap"}, description = "Output bootstrap file.")
    Path bootstrap;

    @Option(names = {"-D", "--blob-dir"}, description = "Output directory; the blob is named by its id (and the bootstrap by its sha256 unless -B is given).")
    Path blobDir;

    @Option(names = {"-b", "--blob"}, description = "Output data blob (a file or a FIFO).")
    Path blob;

    @Option(names = {"--blob-inline-meta", "--inline-bootstrap"}, description = "Append the bootstrap to the blob.")
    boolean blobInlineMeta;

    @Option(names = "--blob-id", description = "Use this blob id instead of the blob's sha256.")
    String blobId;

    @Option(names = "--chunk-size", defaultValue = "0x100000",
            description = "Chunk size, hex or decimal, power of two from 0x1000 to 0x1000000 (default: ${DEFAULT-VALUE}).")
    String chunkSize;

    @Option(names = "--batch-size", defaultValue = "0", description = "Batch size (only 0, batching disabled, is supported).")
    String batchSize;

    @Option(names = {"-c", "--compressor"}, defaultValue = "zstd",
            description = "Chunk compressor: none, lz4_block, zstd (default: ${DEFAULT-VALUE}).")
    String compressor;

    @Option(names = "--digester", defaultValue = "sha256",
            description = "Digest algorithm: blake3, sha256 (default: ${DEFAULT-VALUE}; see README for why not blake3).")
    String digester;

    @Option(names = {"-v", "--fs-version"}, defaultValue = "6", description = "RAFS version: 5 or 6 (default: ${DEFAULT-VALUE}).")
    String fsVersion;

    @Option(names = "--features", split = ",", description = "Features: blob-toc (v6).")
    List<String> features = new ArrayList<>();

    @Option(names = {"-M", "--chunk-dict"}, description = "Chunk dictionary: bootstrap=<path> or a bootstrap path.")
    List<String> chunkDicts = new ArrayList<>();

    @Option(names = {"-p", "--parent-bootstrap"}, description = "Bootstrap of the lower layers to stack this layer onto.")
    Path parentBootstrap;

    @Option(names = {"-A", "--aligned-chunk"}, description = "Align uncompressed chunk offsets to 4 KiB (always on for v6).")
    boolean alignedChunk;

    @Option(names = {"-R", "--repeatable"}, description = "Do not record owners (uid/gid): reproducible images.")
    boolean repeatable;

    @Option(names = {"-W", "--whiteout-spec"}, defaultValue = "oci",
            description = "Whiteout convention: oci, overlayfs, none (default: ${DEFAULT-VALUE}).")
    String whiteoutSpec;

    @Option(names = {"-P", "--prefetch-policy"}, defaultValue = "none",
            description = "fs: read absolute paths to prefetch from stdin, one per line; none (default: ${DEFAULT-VALUE}).")
    String prefetchPolicy;

    @Option(names = {"-J", "--output-json"}, description = "Write a JSON summary to this file.")
    Path outputJson;

    @Option(names = {"-E", "--encrypt"}, hidden = true)
    boolean encrypt;

    @Option(names = "--threads", hidden = true, description = "Worker threads (default: number of cores).")
    Integer threads;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        CreateOptions o = new CreateOptions();
        switch (type) {
            case "dir-rafs", "directory" -> o.sourceType = CreateOptions.SourceType.DIRECTORY;
            case "tar-rafs", "targz-rafs" -> o.sourceType = CreateOptions.SourceType.TAR;
            default -> throw new IllegalArgumentException("unsupported --type '" + type
                    + "' (supported: dir-rafs, tar-rafs, targz-rafs)");
        }
        if (source.equals("-")) {
            if (o.sourceType != CreateOptions.SourceType.TAR) {
                throw new IllegalArgumentException("'-' (stdin) needs --type tar-rafs or targz-rafs");
            }
            o.sourceStream = System.in;
        } else {
            o.source = Path.of(source);
        }
        if (encrypt) {
            throw new IllegalArgumentException("--encrypt is not supported");
        }
        if (!batchSize.equals("0") && !batchSize.equals("0x0")) {
            throw new IllegalArgumentException("--batch-size is not supported (only 0)");
        }
        o.chunkSize = Args.chunkSize(chunkSize);
        o.compressor = Compressor.fromCliName(compressor);
        if (o.compressor == Compressor.GZIP) {
            throw new IllegalArgumentException("--compressor gzip is not supported for chunks (none, lz4_block, zstd)");
        }
        o.digester = Digester.fromCliName(digester);
        o.fsVersion = Args.fsVersion(fsVersion);
        for (String f : features) {
            if (f.equals("blob-toc")) {
                o.blobToc = true;
            } else if (!f.isBlank()) {
                throw new IllegalArgumentException("unknown feature '" + f + "' (supported: blob-toc)");
            }
        }
        o.bootstrap = bootstrap;
        o.blob = blob;
        o.blobDir = blobDir;
        o.blobInlineMeta = blobInlineMeta;
        o.blobId = blobId;
        o.whiteoutSpec = WhiteoutSpec.parse(whiteoutSpec);
        o.parentBootstrap = parentBootstrap;
        for (String d : chunkDicts) {
            o.chunkDicts.add(Args.chunkDict(d));
        }
        o.explicitUidGid = !repeatable;
        o.alignedChunk = alignedChunk;
        if (threads != null) {
            o.threads = threads;
        }
        switch (prefetchPolicy) {
            case "fs" -> o.prefetchPatterns = Args.stdinLines();
            case "none", "blob" -> o.prefetchPatterns = null;
            default -> throw new IllegalArgumentException("invalid --prefetch-policy '" + prefetchPolicy + "' (fs, blob, none)");
        }
        CreateResult r = ImageCreator.create(o);
        if (logging.warnings()) {
            for (String w : r.warnings()) {
                logging.log(spec.commandLine().getErr(), "warning: " + w);
            }
        }
        if (outputJson != null) {
            List<String> ids = r.blobs().stream().map(BlobInfo::blobId).toList();
            Json.write(outputJson, Json.output(r.bootstrap(), ids, o.fsVersion.number(), o.compressor.cliName()));
        }
        return 0;
    }
}
