package io.nydus.builder.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The image a reading command works on, named as upstream accepts it: the bootstrap as the argument or with
 * {@code -B}, its data as one blob ({@code -b}) or a directory of blobs named by id ({@code -D}).
 */
final class ImageArgs {
    @Parameters(paramLabel = "BOOTSTRAP", arity = "0..1",
            description = "The bootstrap (or a blob with an inlined bootstrap).")
    Path bootstrapArg;

    @Option(names = {"-B", "--bootstrap"}, paramLabel = "BOOTSTRAP",
            description = "The bootstrap (the older form of the argument).")
    Path bootstrapOpt;

    @Option(names = {"-b", "--blob"}, paramLabel = "BLOB", description = "The data blob (single-blob images).")
    Path blob;

    @Option(names = {"-D", "--blob-dir"}, paramLabel = "DIR", description = "Directory holding the blobs, named by id.")
    Path blobDir;

    Path bootstrap() {
        Path b = bootstrapArg != null ? bootstrapArg : bootstrapOpt;
        if (b == null) {
            throw new IllegalArgumentException("a bootstrap is required");
        }
        return b;
    }
}
