package io.nydus.snapshotter;

import io.nydus.testdata.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The project's {@code bin/nydusd}, {@code bin/nydusify} and {@code bin/nydus-image}, run as a user runs them. They
 * need their modules packaged; when a jar is missing they are packaged once (offline, those modules only).
 */
final class Launchers {
    private static final List<String> MODULES = List.of("nydus-image-builder", "nydusify", "nydusd");
    private static boolean checked;

    private Launchers() {
    }

    static Path nydusd() throws IOException {
        ensurePackaged();
        return Project.root().resolve("bin/nydusd");
    }

    static Path nydusify() throws IOException {
        ensurePackaged();
        return Project.root().resolve("bin/nydusify");
    }

    static Path nydusImage() throws IOException {
        ensurePackaged();
        return Project.root().resolve("bin/nydus-image");
    }

    private static synchronized void ensurePackaged() throws IOException {
        if (checked) {
            return;
        }
        if (!allPackaged()) {
            Path root = Project.root();
            Cmd.Result r = Cmd.exec(List.of("mvn", "-f", root.resolve("pom.xml").toString(), "-B", "-q", "-o",
                    "-pl", String.join(",", MODULES), "package", "-DskipTests"), 900);
            if (r.exit() != 0 || !allPackaged()) {
                throw new IOException("cannot package " + MODULES + ": " + r.out().strip());
            }
        }
        checked = true;
    }

    private static boolean allPackaged() throws IOException {
        for (String m : MODULES) {
            if (!packaged(m)) {
                return false;
            }
        }
        return true;
    }

    private static boolean packaged(String module) throws IOException {
        Path target = Project.root().resolve(module).resolve("target");
        if (!Files.isDirectory(target.resolve("lib"))) {
            return false;
        }
        try (Stream<Path> s = Files.list(target)) {
            return s.anyMatch(p -> p.getFileName().toString().matches(module + "-.*\\.jar")
                    && !p.getFileName().toString().endsWith("-sources.jar"));
        }
    }
}
