package io.nydus.builder.cli;

import io.nydus.builder.Unpacker;
import io.nydus.rafs.RafsSuper;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "unpack", mixinStandardHelpOptions = true,
        description = "Unpack a RAFS image into a tar file, verifying every chunk.")
final class UnpackCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Parameters(paramLabel = "BOOTSTRAP", arity = "0..1", description = "Bootstrap (or blob with an inlined bootstrap).")
    Path bootstrapArg;

    @Option(names = {"-B", "--bootstrap"}, description = "Bootstrap (alternative form).")
    Path bootstrapOpt;

    @Option(names = {"-o", "--output"}, required = true, description = "Output tar file.")
    Path output;

    @Option(names = {"-b", "--blob"}, description = "The data blob (single-blob images).")
    Path blob;

    @Option(names = {"-D", "--blob-dir"}, description = "Directory holding the blobs, named by id.")
    Path blobDir;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        Path b = bootstrapArg != null ? bootstrapArg : bootstrapOpt;
        if (b == null) {
            throw new IllegalArgumentException("a bootstrap is required");
        }
        if (blob == null && blobDir == null) {
            throw new IllegalArgumentException("one of --blob or --blob-dir is required");
        }
        try (RafsSuper sb = BootstrapArg.open(b)) {
            Unpacker.unpack(sb, blob, blobDir, output);
        }
        return 0;
    }
}
