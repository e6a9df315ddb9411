package io.nydus.builder.cli;

import io.nydus.builder.Checker;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsSuper;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate a bootstrap; with its blobs (-D or --blob), also verify every chunk's data.")
final class CheckCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Spec
    CommandSpec spec;

    @Mixin
    ImageArgs image;

    @Option(names = {"-v", "--verbose"}, description = "Print what was checked.")
    boolean verbose;

    @Option(names = {"-J", "--output-json"}, description = "Write a JSON summary to this file.")
    Path outputJson;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        Path b = image.bootstrap();
        try (RafsSuper sb = BootstrapArg.open(b)) {
            Checker.Report r = Checker.check(sb, image.blob, image.blobDir);
            if (verbose) {
                spec.commandLine().getOut().printf("%s: RAFS %s, %d inodes, %d files, %d chunks (%d verified against blob data), %d blobs: OK%n",
                        b, sb.version(), r.inodes(), r.files(), r.chunks(), r.verifiedChunks(), r.blobs());
            }
            if (outputJson != null) {
                Json.write(outputJson, Json.output(b, sb.blobs().stream().map(BlobInfo::blobId).toList(),
                        sb.version().number(), sb.compressor().cliName()));
            }
        }
        return 0;
    }
}
