package io.nydus.builder.cli;

import io.nydus.builder.Unpacker;
import io.nydus.rafs.RafsSuper;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "unpack", mixinStandardHelpOptions = true,
        description = "Unpack a RAFS image into a tar file, verifying every chunk.")
final class UnpackCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Mixin
    ImageArgs image;

    @Option(names = {"-o", "--output"}, required = true, description = "Output tar file.")
    Path output;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        Path b = image.bootstrap();
        if (image.blob == null && image.blobDir == null) {
            throw new IllegalArgumentException("one of --blob or --blob-dir is required");
        }
        try (RafsSuper sb = BootstrapArg.open(b)) {
            Unpacker.unpack(sb, image.blob, image.blobDir, output);
        }
        return 0;
    }
}
