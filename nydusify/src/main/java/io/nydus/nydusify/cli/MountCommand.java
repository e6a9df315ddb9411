package io.nydus.nydusify.cli;

import io.nydus.nydusify.ImageReference;
import io.nydus.nydusify.NydusdMount;
import io.nydus.nydusify.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nydusify mount} (alias {@code view}). */
@Command(name = "mount", aliases = "view", mixinStandardHelpOptions = true,
        description = "Mount a nydus image with nydusd and stay in the foreground until it is unmounted or signalled.")
final class MountCommand extends CommonOptions implements Callable<Integer> {
    @Option(names = "--target", required = true, paramLabel = "REF", description = "The nydus image to mount.")
    String target;

    @Option(names = "--mountpoint", required = true, paramLabel = "DIR", description = "Where to mount it.")
    Path mountpoint;

    @Option(names = "--nydusd", paramLabel = "PATH", description = "The nydusd to run (default: bin/nydusd of this installation).")
    Path nydusd;

    @Override
    public Integer call() throws Exception {
        ImageReference ref = ImageReference.parse(target);
        Path daemon = nydusd != null ? nydusd : defaultNydusd();
        Path base = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(base);
        Path work = workDir != null ? workDir : Files.createTempDirectory(base, "nydusify-mount-");
        try (Progress progress = progress()) {
            return new NydusdMount(targetOptions(), platforms(), daemon, progress).run(ref, mountpoint, work,
                    workDir == null);
        }
    }

    static Path defaultNydusd() {
        String home = System.getProperty("nydusify.home");
        if (home != null) {
            Path p = Path.of(home, "bin", "nydusd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return Path.of("nydusd");
    }
}
