package io.nydus.nydusify;

import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.rafs.RafsVersion;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The last layer of a nydus image (notes §7.3): a gzip'ed tar holding {@code image/} (0755),
 * {@code image/image.boot} (0444, the merged bootstrap) and, for RAFS v6, {@code image/<blob id>.blob.meta} (0444)
 * per layer blob. Its diff_id is the sha256 of the uncompressed tar. Entries carry owner 0 and mtime 0 so the same
 * bootstrap always gives the same layer digest.
 */
public final class BootstrapLayer {
    public static final String DIR = "image";
    public static final String BOOTSTRAP = "image/image.boot";
    /** Bootstrap path of layers written by nydusify before the {@code image/} directory was introduced. */
    static final String LEGACY_BOOTSTRAP = "image.boot";
    public static final String BLOB_META_SUFFIX = ".blob.meta";
    private static final long MAX_BOOTSTRAP = Integer.MAX_VALUE;

    /** A written bootstrap layer. */
    public record Written(Path file, Descriptor descriptor, String diffId) {
    }

    private BootstrapLayer() {
    }

    /**
     * Writes the layer.
     *
     * @param blobMetas blob id (hex) → blob meta cache file, written in this order
     * @param docker    Docker schema 2 layer media type instead of OCI's
     */
    public static Written write(Path bootstrap, Map<String, byte[]> blobMetas, RafsVersion version, boolean docker,
            Path out) throws IOException {
        MessageDigest tarDigest = Digests.messageDigest("sha256:");
        MessageDigest gzDigest = Digests.messageDigest("sha256:");
        try (OutputStream file = new DigestOutputStream(
                        new BufferedOutputStream(Files.newOutputStream(out), 1 << 16), gzDigest);
                GZIPOutputStream gz = new FastGzip(file);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new DigestOutputStream(gz, tarDigest))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            TarArchiveEntry dir = new TarArchiveEntry(DIR, TarArchiveEntry.LF_DIR);
            dir.setMode(040755);
            dir.setModTime(0);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            putFile(tar, BOOTSTRAP, Files.size(bootstrap));
            Files.copy(bootstrap, tar);
            tar.closeArchiveEntry();
            if (version == RafsVersion.V6) {
                for (Map.Entry<String, byte[]> m : blobMetas.entrySet()) {
                    putFile(tar, DIR + "/" + m.getKey() + BLOB_META_SUFFIX, m.getValue().length);
                    tar.write(m.getValue());
                    tar.closeArchiveEntry();
                }
            }
            tar.finish();
        }
        String digest = Digests.format("sha256", gzDigest.digest());
        Descriptor d = new Descriptor(docker ? MediaTypes.DOCKER_LAYER_GZIP : MediaTypes.OCI_LAYER_GZIP, digest,
                Files.size(out));
        d.annotate(MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP, "true");
        d.annotate(MediaTypes.ANNOTATION_NYDUS_FS_VERSION, version == RafsVersion.V6 ? "6" : "5");
        return new Written(out, d, Digests.format("sha256", tarDigest.digest()));
    }

    private static void putFile(TarArchiveOutputStream tar, String name, long size) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100444);
        e.setSize(size);
        e.setModTime(0);
        tar.putArchiveEntry(e);
    }

    /** What a bootstrap layer holds once read back. */
    public record Contents(Path bootstrap, Map<String, byte[]> blobMetas, String diffId) {
    }

    /**
     * Reads a bootstrap layer stream (gzip'ed or plain tar): writes {@code image.boot} to {@code bootstrapOut} and
     * returns the blob meta files. Fails when the layer has no bootstrap.
     */
    public static Contents read(InputStream layer, Path bootstrapOut, String what) throws IOException {
        MessageDigest tarDigest = Digests.messageDigest("sha256:");
        Map<String, byte[]> metas = new LinkedHashMap<>();
        boolean found = false;
        InputStream in = new DigestInputStream(LayerConverter.decompressed(layer, what), tarDigest);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                while (name.startsWith("./") || name.startsWith("/")) {
                    name = name.substring(name.startsWith("./") ? 2 : 1);
                }
                if (!e.isFile()) {
                    continue;
                }
                if (name.equals(BOOTSTRAP) || name.equals(LEGACY_BOOTSTRAP)) {
                    if (e.getSize() > MAX_BOOTSTRAP) {
                        throw new NydusifyException(what + ": image.boot of " + e.getSize() + " bytes is too large");
                    }
                    Files.copy(tar, bootstrapOut, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    found = true;
                } else if (name.startsWith(DIR + "/") && name.endsWith(BLOB_META_SUFFIX) && e.getSize() <= (256 << 20)) {
                    String id = name.substring(DIR.length() + 1, name.length() - BLOB_META_SUFFIX.length());
                    metas.put(id, tar.readAllBytes());
                }
            }
            in.transferTo(OutputStream.nullOutputStream()); // the end-of-archive blocks count in the diff_id
        } catch (IllegalArgumentException e) {
            throw new NydusifyException(what + ": not a tar: " + e.getMessage(), e);
        }
        if (!found) {
            throw new NydusifyException(what + ": no " + BOOTSTRAP + " in the bootstrap layer");
        }
        return new Contents(bootstrapOut, metas, Digests.format("sha256", tarDigest.digest()));
    }

    /** Bootstraps compress well and are small: the fastest deflate level is plenty. */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 1 << 16);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }
}
