package io.nydus.testdata;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Paths inside this project, for tests that run its scripts and launchers. */
public final class Project {
    private Project() {
    }

    /** The project's root directory (the one holding the parent pom and {@code testdata/}). */
    public static Path root() {
        String p = System.getProperty("nydus.project");
        if (p != null) {
            return Paths.get(p).toAbsolutePath().normalize();
        }
        Path d = Paths.get("").toAbsolutePath();
        while (d != null && !Files.isDirectory(d.resolve("testdata/scripts"))) {
            d = d.getParent();
        }
        if (d == null) {
            throw new IllegalStateException("cannot find the project root from " + Paths.get("").toAbsolutePath());
        }
        return d;
    }

    public static Path script(String name) {
        return root().resolve("testdata/scripts").resolve(name);
    }
}
