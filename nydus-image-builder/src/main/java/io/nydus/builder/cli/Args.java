package io.nydus.builder.cli;

import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.blob.ChunkRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Parsing of option values shared by the subcommands. */
final class Args {
    private Args() {
    }

    /** {@code --chunk-size}: hex ({@code 0x100000}) or decimal; a power of two from 4 KiB to 16 MiB. */
    static int chunkSize(String s) {
        long v;
        try {
            v = Long.decode(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid --chunk-size '" + s + "': not a number");
        }
        if (!ChunkRecord.isValidChunkSize(v)) {
            throw new IllegalArgumentException("invalid --chunk-size '" + s
                    + "': must be a power of two from 0x1000 to 0x1000000");
        }
        return (int) v;
    }

    static RafsVersion fsVersion(String s) {
        return switch (s.trim()) {
            case "5" -> RafsVersion.V5;
            case "6" -> RafsVersion.V6;
            default -> throw new IllegalArgumentException("invalid --fs-version '" + s + "' (expected 5 or 6)");
        };
    }

    /** {@code --chunk-dict bootstrap=<path>} or a bare path. */
    static Path chunkDict(String s) {
        if (s.startsWith("bootstrap=")) {
            return Path.of(s.substring("bootstrap=".length()));
        }
        if (s.contains("=")) {
            throw new IllegalArgumentException("invalid --chunk-dict '" + s + "' (expected bootstrap=<path>)");
        }
        return Path.of(s);
    }

    /** Prefetch patterns, one absolute path per line, from standard input. */
    static List<String> stdinLines() throws IOException {
        List<String> out = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            out.add(line);
        }
        return out;
    }

    static List<String> commaList(String s) {
        List<String> out = new ArrayList<>();
        if (s != null) {
            for (String p : s.split(",")) {
                if (!p.isBlank()) {
                    out.add(p.trim());
                }
            }
        }
        return out;
    }
}
