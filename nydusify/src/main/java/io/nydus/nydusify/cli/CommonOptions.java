package io.nydus.nydusify.cli;

import io.nydus.nydusify.Progress;
import io.nydus.nydusify.RegistryOptions;
import io.nydus.nydusify.oci.Platform;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import java.io.PrintWriter;

/** Flags shared by the subcommands: how to reach the source and target registries, platforms, work dir. */
abstract class CommonOptions {
    @ParentCommand
    Nydusify parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--source-insecure", description = "Skip TLS verification for the source registry (and fall back to HTTP).")
    boolean sourceInsecure;

    @Option(names = "--target-insecure", description = "Skip TLS verification for the target registry (and fall back to HTTP).")
    boolean targetInsecure;

    @Option(names = "--plain-http", description = "Talk to the registries over plain HTTP.")
    boolean plainHttp;

    @Option(names = "--source-creds", paramLabel = "USER:PASS",
            description = "Source registry credentials (else $" + RegistryOptions.SOURCE_CREDS_ENV + ", else docker config.json).")
    String sourceCreds;

    @Option(names = "--target-creds", paramLabel = "USER:PASS",
            description = "Target registry credentials (else $" + RegistryOptions.TARGET_CREDS_ENV + ", else docker config.json).")
    String targetCreds;

    @Option(names = "--platform", paramLabel = "OS/ARCH[,…]", defaultValue = "linux/amd64",
            description = "Platform(s) of a multi-platform image to work on (default: ${DEFAULT-VALUE}).")
    String platform;

    @Option(names = "--all-platforms", description = "Work on every platform of a multi-platform image.")
    boolean allPlatforms;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Directory for temporary files (default: the system temp directory).")
    Path workDir;

    RegistryOptions sourceOptions() {
        return new RegistryOptions(plainHttp, sourceInsecure, sourceCreds, RegistryOptions.SOURCE_CREDS_ENV, 2);
    }

    /** The target side retries through --push-retry-count, not inside the client. */
    RegistryOptions targetOptions() {
        return new RegistryOptions(plainHttp, targetInsecure, targetCreds, RegistryOptions.TARGET_CREDS_ENV, 0);
    }

    List<Platform> platforms() {
        List<Platform> out = new ArrayList<>();
        for (String p : platform.split(",")) {
            if (!p.isBlank()) {
                out.add(Platform.parse(p));
            }
        }
        return out;
    }

    Progress progress() {
        String level = parent == null ? "info" : parent.logLevel;
        boolean quiet = !(level.equals("info") || level.equals("debug") || level.equals("trace"));
        return new Progress(err(), System.console() != null, quiet);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    /** Go's duration syntax, as upstream's flags take it: "5s", "500ms", "1m30s"; a bare number is seconds. */
    static Duration duration(String s, String flag) {
        String v = s.trim();
        if (v.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(v));
        }
        Matcher m = DURATION.matcher(v);
        long nanos = 0;
        int pos = 0;
        while (m.find() && m.start() == pos) {
            double n = Double.parseDouble(m.group(1));
            double unit = switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            nanos += (long) (n * unit);
            pos = m.end();
        }
        if (pos != v.length() || v.isEmpty()) {
            throw new IllegalArgumentException(flag + ": '" + s + "' is not a duration like 5s or 500ms");
        }
        return Duration.ofNanos(nanos);
    }
}
