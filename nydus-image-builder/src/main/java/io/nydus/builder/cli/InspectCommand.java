package io.nydus.builder.cli;

import io.nydus.builder.Inspector;
import io.nydus.rafs.RafsSuper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Inspect a bootstrap: one request with -R, or an interactive prompt reading requests from stdin."
                + " Requests: stats, ls [dir], cd <dir>, stat <path>, blobs, prefetch, chunk <path> <offset>, icheck <ino>, exit.")
final class InspectCommand implements Callable<Integer>, LoggingOptions.Holder {
    @Mixin
    LoggingOptions logging;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BOOTSTRAP", description = "Bootstrap (or blob with an inlined bootstrap).")
    Path bootstrap;

    @Option(names = {"-R", "--request"}, description = "One request to answer, e.g. 'stats' or 'stat /etc/passwd'.")
    String request;

    @Option(names = {"-D", "--blob-dir"}, description = "Directory of the blobs (accepted for compatibility).")
    Path blobDir;

    @Override
    public LoggingOptions logging() {
        return logging;
    }

    @Override
    public Integer call() throws Exception {
        try (RafsSuper sb = BootstrapArg.open(bootstrap)) {
            Inspector in = new Inspector(sb);
            if (request != null) {
                spec.commandLine().getOut().print(in.answer(request));
                return 0;
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                spec.commandLine().getOut().print("Inspecting Rafs :> ");
                spec.commandLine().getOut().flush();
                String line = r.readLine();
                if (line == null || line.trim().equals("exit") || line.trim().equals("q")) {
                    return 0;
                }
                if (line.isBlank()) {
                    continue;
                }
                try {
                    spec.commandLine().getOut().print(in.answer(line));
                } catch (IllegalArgumentException e) {
                    spec.commandLine().getOut().println("error: " + e.getMessage());
                }
            }
        }
    }
}
