package io.nydus.daemon;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** What {@code nydusd --version} and {@code GET /api/v1/daemon} report as {@code version}. */
public record BuildInfo(String packageVer, String gitCommit, String buildTime, String profile, String rustc) {
    private static final String RESOURCE = "/io/nydus/daemon/build.properties";
    private static final BuildInfo CURRENT = load();

    public static BuildInfo current() {
        return CURRENT;
    }

    private static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // Defaults below.
        }
        // "rustc" names the toolchain upstream; here it is the Java runtime that runs the daemon.
        return new BuildInfo(p.getProperty("version", "unknown"), p.getProperty("git_commit", "unknown"),
                p.getProperty("build_time", "unknown"), p.getProperty("profile", "release"),
                "java " + System.getProperty("java.version"));
    }

    /** One line, like upstream's {@code BTI_STRING}. */
    public String describe() {
        return "Version: \t" + packageVer + "\nGit Commit: \t" + gitCommit + "\nBuild Time: \t" + buildTime
                + "\nProfile: \t" + profile + "\nRuntime: \t" + rustc;
    }
}
