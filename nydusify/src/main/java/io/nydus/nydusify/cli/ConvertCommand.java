package io.nydus.nydusify.cli;

import io.nydus.nydusify.ConvertOptions;
import io.nydus.nydusify.ConvertResult;
import io.nydus.nydusify.ImageConverter;
import io.nydus.nydusify.ImageReference;
import io.nydus.nydusify.Progress;
import io.nydus.nydusify.oci.Json;
import io.nydus.rafs.Compressor;
import io.nydus.rafs.RafsVersion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nydusify convert}. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert an OCI or Docker image into a nydus image and push it.")
final class ConvertCommand extends CommonOptions implements Callable<Integer> {
    @Option(names = "--source", required = true, paramLabel = "REF",
            description = "Source image: host[:port]/repo[:tag|@digest], oci:DIR[:tag] or oci-archive:FILE[:tag].")
    String source;

    @Option(names = "--target", paramLabel = "REF", description = "Target image (same forms as --source).")
    String target;

    @Option(names = "--target-suffix", paramLabel = "SUFFIX",
            description = "Target = source with SUFFIX appended to its tag (when --target is not given).")
    String targetSuffix;

    @Option(names = "--fs-version", defaultValue = "6", description = "RAFS version: 5 or 6 (default: ${DEFAULT-VALUE}).")
    String fsVersion;

    @Option(names = "--compressor", defaultValue = "zstd",
            description = "Chunk compressor: zstd, lz4_block or none (default: ${DEFAULT-VALUE}).")
    String compressor;

    @Option(names = {"--chunk-size", "--fs-chunk-size"}, defaultValue = "0x100000",
            description = "Chunk size, a power of two from 0x1000 to 0x1000000 (default: ${DEFAULT-VALUE}).")
    String chunkSize;

    @Option(names = "--chunk-dict", paramLabel = "bootstrap:registry:REF|bootstrap:local:PATH",
            description = "Reuse the chunks of this nydus image (or bootstrap file) instead of storing them again.")
    List<String> chunkDicts = new ArrayList<>();

    @Option(names = {"--merge-platform", "--multi-platform"},
            description = "Push an index holding both the source manifests and the nydus manifests.")
    boolean mergePlatform;

    @Option(names = "--oci", description = "Use OCI media types even for a Docker source.")
    boolean oci;

    @Option(names = "--docker-v2-format", description = "Use Docker schema 2 media types.")
    boolean dockerV2;

    @Option(names = "--prefetch-patterns", description = "Read prefetch paths (one per line) from stdin.")
    boolean prefetchPatterns;

    @Option(names = "--output-json", paramLabel = "FILE", description = "Write what was converted and pushed as JSON.")
    Path outputJson;

    @Option(names = "--push-retry-count", defaultValue = "3", description = "Retries of a failed push (default: ${DEFAULT-VALUE}).")
    int pushRetryCount;

    @Option(names = "--push-retry-delay", defaultValue = "5s", description = "Pause between push retries (default: ${DEFAULT-VALUE}).")
    String pushRetryDelay;

    @Option(names = "--nydus-image", hidden = true, description = "Accepted for compatibility; the builder is built in.")
    String nydusImage;

    @Override
    public Integer call() throws Exception {
        io.nydus.nydusify.Timing.mark("command parsed");
        ConvertOptions o = new ConvertOptions();
        o.fsVersion = switch (fsVersion.trim()) {
            case "5" -> RafsVersion.V5;
            case "6" -> RafsVersion.V6;
            default -> throw new IllegalArgumentException("--fs-version must be 5 or 6, not '" + fsVersion + "'");
        };
        o.compressor = Compressor.fromCliName(compressor);
        if (o.compressor == Compressor.GZIP) {
            throw new IllegalArgumentException("--compressor gzip is not supported for nydus blobs");
        }
        o.chunkSize = parseChunkSize(chunkSize);
        o.chunkDicts = chunkDicts;
        o.platforms = platforms();
        o.allPlatforms = allPlatforms;
        o.mergePlatform = mergePlatform;
        if (oci && dockerV2) {
            throw new IllegalArgumentException("--oci and --docker-v2-format exclude each other");
        }
        o.oci = oci;
        o.dockerV2 = dockerV2;
        o.workDir = workDir;
        o.pushRetryCount = pushRetryCount;
        o.pushRetryDelay = duration(pushRetryDelay, "--push-retry-delay");
        o.source = sourceOptions();
        o.target = targetOptions();
        if (prefetchPatterns) {
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.isBlank()) {
                        lines.add(line.trim());
                    }
                }
            }
            o.prefetchPatterns = lines;
        }
        ImageReference src = ImageReference.parse(source);
        ImageReference dst;
        if (target != null) {
            dst = ImageReference.parse(target);
        } else if (targetSuffix != null) {
            dst = src.withTagSuffix(targetSuffix);
        } else {
            throw new IllegalArgumentException("one of --target or --target-suffix is required");
        }
        if (src.equals(dst)) {
            throw new IllegalArgumentException("--target " + dst + " is the source image");
        }
        try (Progress progress = progress()) {
            ConvertResult r = new ImageConverter(o, progress).convert(src, dst);
            if (outputJson != null) {
                Files.write(outputJson, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
            }
        }
        return 0;
    }

    static int parseChunkSize(String s) {
        String v = s.trim().toLowerCase(java.util.Locale.ROOT);
        long n;
        try {
            n = v.startsWith("0x") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--chunk-size '" + s + "' is not a number");
        }
        if (n < 0x1000 || n > 0x1000000 || Long.bitCount(n) != 1) {
            throw new IllegalArgumentException("--chunk-size " + s + " must be a power of two from 0x1000 to 0x1000000");
        }
        return (int) n;
    }
}
