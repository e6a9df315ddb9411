package io.nydus.nydusify;

import io.nydus.nydusify.cli.Nydusify;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code nydusify} command lines in-process, as {@code bin/nydusify} would, capturing what the user sees. */
record Cli(int code, String out, String err) {

    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Nydusify.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** The error lines (those starting with "nydusify:"). */
    String errorLines() {
        StringBuilder b = new StringBuilder();
        for (String l : err.split("\n")) {
            if (l.startsWith("nydusify:")) {
                b.append(l).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
}
