package io.nydus.nydusify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A temporary directory for one command (under {@code --work-dir}, else the system's), removed when closed. */
public final class WorkDir implements AutoCloseable {
    private final Path path;

    private WorkDir(Path path) {
        this.path = path;
    }

    public static WorkDir create(Path base, String prefix) throws IOException {
        Path b = base != null ? base : Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(b);
        return new WorkDir(Files.createTempDirectory(b, prefix));
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        delete(path);
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover temporary file is harmless
        }
    }
}
