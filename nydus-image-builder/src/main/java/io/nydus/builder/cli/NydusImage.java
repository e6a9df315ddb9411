package io.nydus.builder.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nydus-image}: builds, merges, checks, inspects and unpacks RAFS images (upstream-compatible flags). */
@Command(name = "nydus-image", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Build, merge, check, inspect and unpack RAFS (nydus) images.")
public final class NydusImage implements Runnable {
    private static final Subcommands SUBCOMMANDS = new Subcommands().add("create", CreateCommand::new)
            .add("merge", MergeCommand::new).add("check", CheckCommand::new).add("inspect", InspectCommand::new)
            .add("stat", StatCommand::new).add("unpack", UnpackCommand::new);

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit code: 0 success, 1 failure, 2 bad usage. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Like {@link #run(String...)} with the given standard output and error. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = SUBCOMMANDS.commandLine(new NydusImage(), args);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + Failures.message(ex));
            if (Failures.debug(cmd)) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }
}
