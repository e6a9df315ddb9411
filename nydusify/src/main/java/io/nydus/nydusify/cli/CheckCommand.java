package io.nydus.nydusify.cli;

import io.nydus.nydusify.CheckReport;
import io.nydus.nydusify.ImageChecker;
import io.nydus.nydusify.ImageReference;
import io.nydus.nydusify.Progress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nydusify check}. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate a nydus image and compare every file with its source image.")
final class CheckCommand extends CommonOptions implements Callable<Integer> {
    @Option(names = "--target", required = true, paramLabel = "REF", description = "The nydus image to check.")
    String target;

    @Option(names = "--source", paramLabel = "REF", description = "The image it was converted from (its files are compared).")
    String source;

    @Option(names = {"--multi-platform", "--merge-platform"}, hidden = true, description = "Accepted for compatibility.")
    boolean multiPlatform;

    @Option(names = {"--nydus-image", "--nydusd"}, hidden = true, description = "Accepted for compatibility.")
    String tool;

    @Override
    public Integer call() throws Exception {
        ImageReference t = ImageReference.parse(target);
        ImageReference s = source == null ? null : ImageReference.parse(source);
        CheckReport r;
        try (Progress progress = progress()) {
            r = new ImageChecker(platforms(), allPlatforms, sourceOptions(), targetOptions(), workDir, progress)
                    .check(t, s);
        }
        if (!r.ok()) {
            for (String p : r.problems()) {
                out().println(p);
            }
            err().println("nydusify: check of " + t + " failed: " + r.problems().size() + " problems");
            return 1;
        }
        out().println("check passed: " + t + ": " + r.manifests() + " manifest(s), " + r.entries() + " entries"
                + (s == null ? "" : ", " + r.comparedEntries() + " compared with " + s));
        return 0;
    }
}
