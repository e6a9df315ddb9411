package io.nydus.builder.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Adds to a command line only the subcommands its arguments name: picocli builds each subcommand's model by
 * reflection, 10-40 ms apiece in a JVM just started. All of them when none is named, or for {@code help} (the
 * usage lists them). An option value that happens to be a subcommand's name only adds that one too.
 */
public final class Subcommands {
    private final Map<String, Supplier<Object>> byName = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();

    /** Adds a subcommand, in help order, with the aliases its {@code @Command} declares. */
    public Subcommands add(String name, Supplier<Object> command, String... aliasNames) {
        byName.put(name, command);
        for (String a : aliasNames) {
            aliases.put(a, name);
        }
        return this;
    }

    /** {@code root} with the subcommands {@code args} call for, and picocli's {@code help}. */
    public CommandLine commandLine(Object root, String... args) {
        CommandLine cl = new CommandLine(root);
        List<String> given = List.of(args);
        boolean all = given.contains("help") || given.stream().noneMatch(a -> byName.containsKey(name(a)));
        for (Map.Entry<String, Supplier<Object>> e : byName.entrySet()) {
            if (all || given.stream().anyMatch(a -> name(a).equals(e.getKey()))) {
                cl.addSubcommand(e.getValue().get());
            }
        }
        return cl.addSubcommand(new CommandLine.HelpCommand());
    }

    private String name(String arg) {
        return aliases.getOrDefault(arg, arg);
    }
}
