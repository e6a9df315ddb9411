package io.nydus.nydusify.cli;

import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.ImageCopier;
import io.nydus.nydusify.ImagePusher;
import io.nydus.nydusify.ImageReference;
import io.nydus.nydusify.ImageStore;
import io.nydus.nydusify.ImageStores;
import io.nydus.nydusify.NydusifyException;
import io.nydus.nydusify.PlatformFilter;
import io.nydus.nydusify.Progress;
import io.nydus.nydusify.WorkDir;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nydusify copy}. */
@Command(name = "copy", mixinStandardHelpOptions = true,
        description = "Copy an image (a nydus image with all its blobs, or any image) between registries and layouts.")
final class CopyCommand extends CommonOptions implements Callable<Integer> {
    @Option(names = "--source", required = true, paramLabel = "REF", description = "Image to copy.")
    String source;

    @Option(names = "--target", required = true, paramLabel = "REF", description = "Where to copy it.")
    String target;

    @Option(names = "--push-retry-count", defaultValue = "3", description = "Retries of a failed push (default: ${DEFAULT-VALUE}).")
    int pushRetryCount;

    @Option(names = "--push-retry-delay", defaultValue = "5s", description = "Pause between push retries (default: ${DEFAULT-VALUE}).")
    String pushRetryDelay;

    @Override
    public Integer call() throws Exception {
        ImageReference src = ImageReference.parse(source);
        ImageReference dst = ImageReference.parse(target);
        if (dst.digest() != null) {
            throw new NydusifyException("target " + dst + " must name a tag, not a digest");
        }
        // Without an explicit --platform an index is copied whole.
        boolean platformGiven = spec.commandLine().getParseResult().hasMatchedOption("--platform");
        PlatformFilter filter = platformGiven || allPlatforms ? new PlatformFilter(platforms(), allPlatforms) : null;
        try (WorkDir wd = WorkDir.create(workDir, "nydusify-copy-"); Progress progress = progress();
                ImageStore from = ImageStores.open(src, sourceOptions(), wd.path(), false);
                ImageStore to = ImageStores.open(dst, targetOptions(), wd.path(), true)) {
            ImagePusher pusher = new ImagePusher(to, pushRetryCount, duration(pushRetryDelay, "--push-retry-delay"));
            Manifest top = from.manifest(src.reference());
            ImageCopier.Copied c = new ImageCopier(from, pusher, progress).copy(top, filter, src.toString());
            pusher.tag(dst.tag(), c.descriptor(), c.bytes());
            to.commit();
            progress.info("copied " + src + " -> " + dst + " (" + c.descriptor().digest + "), sent "
                    + Progress.bytes(pusher.uploadedBytes()) + " in " + pusher.uploadedBlobs() + " blobs, "
                    + pusher.existingBlobs() + " already present, " + pusher.mountedBlobs() + " mounted");
        }
        return 0;
    }
}
