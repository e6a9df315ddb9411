package io.nydus.nydusify.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Only the subcommands a command line names get a picocli model; help and usage errors still see all of them. */
class SubcommandsTest {

    private static List<String> subcommands(String... args) {
        return List.copyOf(Nydusify.commandLine(args).getSubcommands().keySet());
    }

    @Test
    void onlyTheNamedSubcommandsAreBuilt() {
        assertEquals(List.of("convert", "help"), subcommands("convert", "--source", "a", "--target", "b"));
        assertEquals(List.of("mount", "view", "help"), subcommands("-l", "warn", "view", "--target", "a"));
        // a value that happens to be a subcommand's name adds that one too; the command itself still parses
        assertEquals(List.of("convert", "copy", "help"), subcommands("copy", "--source", "convert"));
    }

    @Test
    void helpAndUnknownCommandsSeeAll() {
        List<String> all = List.of("convert", "check", "mount", "view", "copy", "help");
        assertEquals(all, subcommands());
        assertEquals(all, subcommands("help", "convert"));
        assertEquals(all, subcommands("bogus"));

        StringWriter out = new StringWriter();
        assertEquals(0, Nydusify.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "--help"));
        for (String c : List.of("convert", "check", "mount, view", "copy", "help")) {
            assertTrue(out.toString().contains("\n  " + c + " "), c + " missing from:\n" + out);
        }
        StringWriter err = new StringWriter();
        assertEquals(2, Nydusify.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "bogus"));
        assertTrue(err.toString().startsWith("nydusify: Unmatched argument at index 0: 'bogus'"), err.toString());
    }

    @Test
    void inheritedLogLevelReachesALateSubcommand() {
        StringWriter out = new StringWriter();
        assertEquals(0, Nydusify.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "copy", "--help"));
        assertTrue(out.toString().contains("--log-level"), out.toString());
    }
}
