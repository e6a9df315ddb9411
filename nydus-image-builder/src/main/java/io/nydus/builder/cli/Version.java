package io.nydus.builder.cli;

import picocli.CommandLine.IVersionProvider;

/** The version string shared by the tools and their JSON output. */
public final class Version implements IVersionProvider {
    public static final String VERSION = "0.1.0-java";

    @Override
    public String[] getVersion() {
        return new String[] {"nydus-image " + VERSION + " (RAFS v5/v6, Java " + System.getProperty("java.version") + ")"};
    }
}
