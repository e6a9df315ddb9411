package io.nydus.builder;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output written under a temporary name next to its final path and renamed into place only when complete, so
 * that a failed run never leaves a half-written file under the final name. FIFOs and character devices (e.g. a
 * pipe handed over by nydusify) are written directly.
 */
final class OutputFile implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final OutputStream out;
    private boolean committed;

    private OutputFile(Path target, Path temp, OutputStream out) {
        this.target = target;
        this.temp = temp;
        this.out = out;
    }

    static OutputFile create(Path target) throws IOException {
        if (Files.exists(target) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(target)) {
            return new OutputFile(target, null, new BufferedOutputStream(Files.newOutputStream(target), 1 << 20));
        }
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // Readable by all, like files created under the usual umask (createTempFile would make them 0600).
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--")));
        return new OutputFile(target, temp, new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20));
    }

    OutputStream stream() {
        return out;
    }

    /** Flushes and moves the file to {@code finalPath} (normally the target given at creation). */
    void commit(Path finalPath) throws IOException {
        out.close();
        if (temp != null) {
            try {
                Files.move(temp, finalPath, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, finalPath, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        committed = true;
    }

    void commit() throws IOException {
        commit(target);
    }

    Path target() {
        return target;
    }

    @Override
    public void close() {
        if (!committed) {
            try {
                out.close();
            } catch (IOException e) {
                // already failing
            }
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    // best effort
                }
            }
        }
    }
}
