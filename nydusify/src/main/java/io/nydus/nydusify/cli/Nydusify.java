package io.nydus.nydusify.cli;

import java.io.PrintWriter;
import io.nydus.blobcache.registry.HttpSelectorThreads;
import java.nio.file.NoSuchFileException;
import io.nydus.builder.cli.Subcommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code nydusify}: converts, checks, mounts and copies nydus images (upstream-compatible flags). */
@Command(name = "nydusify", mixinStandardHelpOptions = true, version = "nydusify (nydus-java) 0.1.0",
        description = "Convert OCI images to nydus images, check, mount and copy them (registries and OCI layouts).")
public final class Nydusify implements Runnable {
    private static final Subcommands SUBCOMMANDS = new Subcommands().add("convert", ConvertCommand::new)
            .add("check", CheckCommand::new).add("mount", MountCommand::new, "view").add("copy", CopyCommand::new);

    @Option(names = {"-l", "--log-level"}, defaultValue = "info", scope = ScopeType.INHERIT,
            description = "Log level: debug, info, warn, error (default: ${DEFAULT-VALUE}); below info no progress is shown.")
    String logLevel = "info";

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a subcommand is required");
    }

    public static void main(String[] args) {
        // The JDK HTTP client reads a response 16 KiB at a time by default: a 64 MB layer was 4,000 buffers and
        // wake-ups of its selector thread. 256 KiB measured 3% less CPU for a conversion. (Read once, at class load.)
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", String.valueOf(256 << 10));
        }
        Preload.start(args);
        int code = run(args);
        io.nydus.nydusify.Timing.mark("exit");
        HttpSelectorThreads.stop();
        System.exit(code);
    }

    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs a command line: 0 success, 1 failure (or differences found by check), 2 bad usage. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("nydusify: " + message(ex));
            if (debug(parsed)) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        cl.setParameterExceptionHandler((ex, params) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("nydusify: " + message(ex) + " (see " + cmd.getCommandSpec().qualifiedName()
                    + " --help)");
            return 2;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The command line with the subcommands {@code args} name, or all of them (for help or a usage error). */
    static CommandLine commandLine(String... args) {
        return SUBCOMMANDS.commandLine(new Nydusify(), args);
    }

    static String message(Throwable t) {
        if (t instanceof NoSuchFileException n) {
            return n.getFile() + ": no such file";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        return m.replaceAll("[\\r\\n]+", " ").strip();
    }

    private static boolean debug(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult p = parsed;
        while (p != null) {
            if (p.hasMatchedOption("--log-level")) {
                String v = p.matchedOptionValue("--log-level", "info");
                return v.equals("debug") || v.equals("trace");
            }
            p = p.subcommand();
        }
        return false;
    }
}
