package io.nydus.nydusify;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.oci.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * An OCI layout packed in a tar file ({@code oci-archive:FILE}, what {@code skopeo copy … oci-archive:} writes). It is
 * unpacked into the work directory and served as an {@link OciLayout}; a written archive is packed into
 * {@code FILE} by {@link #commit} (under a temporary name, then renamed), so a failed conversion leaves it untouched.
 */
public final class OciArchive implements ImageStore {
    private final Path file;
    private final Path unpacked;
    private final OciLayout layout;

    private OciArchive(Path file, Path unpacked, OciLayout layout) {
        this.file = file;
        this.unpacked = unpacked;
        this.layout = layout;
    }

    /** Opens an archive to read, unpacking it below {@code workDir}. */
    public static OciArchive open(Path file, Path workDir) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NydusifyException("oci archive " + file + " does not exist");
        }
        Path dir = Files.createTempDirectory(workDir, "oci-archive-");
        unpack(file, dir);
        return new OciArchive(file, dir, OciLayout.open(dir, "oci archive " + file));
    }

    /** Opens an archive to write: its current content (if any) is kept, and {@link #commit} writes it back. */
    public static OciArchive create(Path file, Path workDir) throws IOException {
        Path dir = Files.createTempDirectory(workDir, "oci-archive-");
        if (Files.isRegularFile(file)) {
            unpack(file, dir);
        }
        return new OciArchive(file, dir, OciLayout.create(dir, "oci archive " + file));
    }

    public OciLayout layout() {
        return layout;
    }

    private static void unpack(Path file, Path dir) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(file))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path p = dir.resolve(e.getName()).normalize();
                if (!p.startsWith(dir)) {
                    throw new NydusifyException("oci archive " + file + ": entry '" + e.getName() + "' escapes the archive");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(p);
                } else if (e.isFile()) {
                    Files.createDirectories(p.getParent());
                    Files.copy(tar, p, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new NydusifyException("oci archive " + file + ": not a tar file: " + e.getMessage());
        }
    }

    @Override
    public void commit() throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, "." + file.getFileName() + "-", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp);
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                List<Path> paths;
                try (Stream<Path> s = Files.walk(unpacked)) {
                    paths = s.filter(p -> !p.equals(unpacked) && !p.getFileName().toString().startsWith(".tmp-"))
                            .sorted(Comparator.comparing(Path::toString)).toList();
                }
                for (Path p : paths) {
                    String name = unpacked.relativize(p).toString();
                    boolean dir = Files.isDirectory(p);
                    TarArchiveEntry e = new TarArchiveEntry(dir ? name + "/" : name);
                    e.setMode(dir ? 040755 : 0100644);
                    if (!dir) {
                        e.setSize(Files.size(p));
                    }
                    tar.putArchiveEntry(e);
                    if (!dir) {
                        Files.copy(p, tar);
                    }
                    tar.closeArchiveEntry();
                }
                tar.finish();
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String describe() {
        return layout.describe();
    }

    @Override
    public Manifest manifest(String reference) throws IOException {
        return layout.manifest(reference);
    }

    @Override
    public InputStream openBlob(Descriptor blob) throws IOException {
        return layout.openBlob(blob);
    }

    @Override
    public long blobSize(String digest) throws IOException {
        return layout.blobSize(digest);
    }

    @Override
    public boolean hasBlob(String digest) {
        return layout.hasBlob(digest);
    }

    @Override
    public PushOutcome pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException {
        return layout.pushBlob(blob, source, from);
    }

    @Override
    public void pushManifest(String mediaType, byte[] bytes) throws IOException {
        layout.pushManifest(mediaType, bytes);
    }

    @Override
    public void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException {
        layout.tag(tag, manifest, bytes);
    }

    @Override
    public BlobBackend backend() {
        return layout.backend();
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> s = Files.walk(unpacked)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(p);
                } catch (NoSuchFileException e) {
                    // already gone
                }
            }
        }
    }
}
