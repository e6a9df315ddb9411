package io.nydus.builder.cli;

import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.blob.BlobReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the bootstrap named on a command line: a bootstrap file, or a blob with an inlined bootstrap. */
final class BootstrapArg {
    private BootstrapArg() {
    }

    static RafsSuper open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        if (RafsSuper.detect(path) != null) {
            return RafsSuper.open(path);
        }
        try (BlobReader r = BlobReader.ofFile(path)) {
            String name = path.getFileName().toString();
            int dot = name.indexOf('.');
            return RafsSuper.openInlined(r, dot > 0 ? name.substring(0, dot) : name);
        } catch (io.nydus.rafs.RafsFormatException e) {
            throw new io.nydus.rafs.RafsFormatException(path + ": not a RAFS bootstrap nor a blob with an inlined one ("
                    + e.getMessage() + ")");
        }
    }
}
