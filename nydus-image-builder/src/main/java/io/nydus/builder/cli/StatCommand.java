package io.nydus.builder.cli;

import io.nydus.builder.DedupStat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Chunk deduplication statistics of bootstraps (and how much of a target image they already hold).")
final class StatCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Spec
    CommandSpec spec;

    @Option(names = {"-B", "--bootstrap"}, description = "A bootstrap (repeatable).")
    List<Path> bootstraps = new ArrayList<>();

    @Option(names = {"-D", "--blob-dir"}, description = "A directory whose files are bootstraps.")
    Path dir;

    @Option(names = {"-T", "--target"}, description = "Target bootstrap compared against the others.")
    Path target;

    @Option(names = "--digester", description = "Accepted for compatibility (chunk digests come from the bootstraps).")
    String digester;

    @Option(names = {"-J", "--output-json"}, description = "Write the statistics as JSON to this file.")
    Path outputJson;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        List<Path> all = new ArrayList<>(bootstraps);
        if (dir != null) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(Files::isRegularFile).sorted().forEach(all::add);
            }
        }
        if (all.isEmpty() && target == null) {
            throw new IllegalArgumentException("give bootstraps with -B or -D");
        }
        DedupStat.Report r = DedupStat.stat(all, target);
        for (DedupStat.ImageStat s : r.images()) {
            spec.commandLine().getOut().printf("%s: %d files, %d chunks, %d bytes; %d unique chunks, %d bytes%n", s.name(), s.files(),
                    s.chunks(), s.chunkBytes(), s.uniqueChunks(), s.uniqueBytes());
        }
        if (!r.images().isEmpty()) {
            spec.commandLine().getOut().printf("all: %d unique chunks, %d of %d bytes (dedup ratio %.3f)%n", r.uniqueChunks(),
                    r.uniqueBytes(), r.totalBytes(), r.totalBytes() == 0 ? 1.0 : (double) r.uniqueBytes() / r.totalBytes());
        }
        if (r.target() != null) {
            spec.commandLine().getOut().printf("target %s: %d of %d unique chunks (%d of %d bytes) already in the other images%n",
                    r.target().name(), r.targetChunksInOthers(), r.target().uniqueChunks(), r.targetBytesInOthers(),
                    r.target().uniqueBytes());
        }
        if (outputJson != null) {
            Json.write(outputJson, r);
        }
        return 0;
    }
}
