package io.nydus.builder;

import io.nydus.builder.cli.NydusImage;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code nydus-image} in-process, capturing its output. */
final class Cli {
    record Result(int code, String out, String err) {
        Result ok() {
            if (code != 0) {
                throw new AssertionError("nydus-image exited " + code + ": " + err);
            }
            return this;
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = NydusImage.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }
}
