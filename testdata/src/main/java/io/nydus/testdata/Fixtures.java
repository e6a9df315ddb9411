package io.nydus.testdata;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the upstream Nydus fixtures in {@code ../shared/nydus-fixtures}. They are always present in CI; where
 * they are absent, tests that need them are skipped with a message saying so.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** The fixture directory (system property {@code nydus.fixtures}, else {@code ../shared/nydus-fixtures}). */
    public static Path dir() {
        String p = System.getProperty("nydus.fixtures");
        if (p != null) {
            return Paths.get(p).toAbsolutePath().normalize();
        }
        return Project.root().resolve("../shared/nydus-fixtures").toAbsolutePath().normalize();
    }

    /** A fixture file; skips the calling test when the fixture directory is absent. */
    public static Path get(String relative) {
        Path d = dir();
        Assumptions.assumeTrue(Files.isDirectory(d), "upstream fixtures not found at " + d + ": test skipped");
        Path f = d.resolve(relative);
        if (!Files.exists(f)) {
            throw new IllegalStateException("fixture " + f + " is missing although " + d + " exists");
        }
        return f;
    }
}
