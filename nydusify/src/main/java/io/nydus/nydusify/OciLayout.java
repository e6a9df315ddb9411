package io.nydus.nydusify;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.backend.LocalFsBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.Json;
import io.nydus.nydusify.oci.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An OCI image layout directory: {@code oci-layout}, {@code index.json} (the tags, as
 * {@code org.opencontainers.image.ref.name} annotations) and {@code blobs/<alg>/<hex>}. Blobs are written under a
 * temporary name, verified, then renamed; {@code index.json} is replaced atomically, so a failed write never leaves a
 * tag pointing at missing content.
 */
public final class OciLayout implements ImageStore {
    static final String LAYOUT_FILE = "oci-layout";
    static final String INDEX_FILE = "index.json";
    private static final byte[] LAYOUT_VERSION = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);

    private final Path dir;
    private final String name;
    private final Object indexLock = new Object();

    private OciLayout(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** Opens an existing layout. */
    public static OciLayout open(Path dir) throws IOException {
        return open(dir, "oci layout " + dir);
    }

    static OciLayout open(Path dir, String name) throws IOException {
        if (!Files.isRegularFile(dir.resolve(INDEX_FILE)) || !Files.isDirectory(dir.resolve("blobs"))) {
            throw new NydusifyException(name + ": not an OCI image layout (no " + INDEX_FILE + " or blobs/)");
        }
        return new OciLayout(dir, name);
    }

    /** Opens a layout for writing, creating an empty one if the directory has none. */
    public static OciLayout create(Path dir) throws IOException {
        return create(dir, "oci layout " + dir);
    }

    static OciLayout create(Path dir, String name) throws IOException {
        Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
        if (!Files.exists(dir.resolve(LAYOUT_FILE))) {
            writeAtomically(dir.resolve(LAYOUT_FILE), LAYOUT_VERSION);
        }
        if (!Files.exists(dir.resolve(INDEX_FILE))) {
            ImageIndex empty = new ImageIndex();
            writeAtomically(dir.resolve(INDEX_FILE), empty.bytes());
        }
        return new OciLayout(dir, name);
    }

    public Path dir() {
        return dir;
    }

    @Override
    public String describe() {
        return name;
    }

    public Path blobPath(String digest) {
        Digests.require(digest, name);
        return dir.resolve("blobs").resolve(Digests.algorithm(digest)).resolve(Digests.hex(digest));
    }

    private ImageIndex index() throws IOException {
        return ImageIndex.parse(Files.readAllBytes(dir.resolve(INDEX_FILE)), name + " " + INDEX_FILE);
    }

    /** The index.json entry a tag names; with a null tag, the only entry. */
    public Descriptor resolve(String tag) throws IOException {
        List<Descriptor> all = index().manifests;
        if (tag == null) {
            if (all.size() == 1) {
                return all.get(0);
            }
            throw new NydusifyException(name + ": holds " + all.size() + " images; name one as oci:" + dir + ":TAG");
        }
        Descriptor found = null;
        for (Descriptor d : all) {
            if (tag.equals(d.annotation(MediaTypes.ANNOTATION_REF_NAME))) {
                found = d;
            }
        }
        if (found == null) {
            throw new NydusifyException(name + ": no image tagged '" + tag + "'");
        }
        return found;
    }

    @Override
    public Manifest manifest(String reference) throws IOException {
        Descriptor d;
        if (reference != null && Digests.isValid(reference)) {
            d = new Descriptor(null, reference, -1);
            for (Descriptor e : index().manifests) {
                if (reference.equals(e.digest)) {
                    d = e;
                }
            }
        } else {
            d = resolve(reference);
        }
        Path p = blobPath(Digests.require(d.digest, name + " index.json"));
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new NydusifyException(name + ": manifest " + d.digest + " is missing from blobs/");
        }
        String got = Digests.format(Digests.algorithm(d.digest), Digests.messageDigest(d.digest).digest(bytes));
        if (!got.equals(d.digest)) {
            throw new NydusifyException(name + ": manifest " + d.digest + " has content digest " + got);
        }
        String type = d.mediaType != null ? d.mediaType : sniff(bytes);
        return new Manifest(type, d.digest, bytes);
    }

    /** The media type a manifest declares, or what its shape says when it declares none. */
    static String sniff(byte[] bytes) {
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n.hasNonNull("mediaType")) {
                return n.get("mediaType").asText();
            }
            return n.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
        } catch (IOException e) {
            return "application/octet-stream";
        }
    }

    @Override
    public InputStream openBlob(Descriptor blob) throws IOException {
        Path p = blobPath(blob.digest);
        try {
            return new VerifiedStream(Files.newInputStream(p), blob.digest, blob.size, name + " blob " + blob.digest,
                    null);
        } catch (NoSuchFileException e) {
            throw new NydusifyException(name + ": blob " + blob.digest + " is missing");
        }
    }

    @Override
    public long blobSize(String digest) throws IOException {
        try {
            return Files.size(blobPath(digest));
        } catch (NoSuchFileException e) {
            throw new NydusifyException(name + ": blob " + digest + " is missing");
        }
    }

    @Override
    public boolean hasBlob(String digest) {
        return Files.isRegularFile(blobPath(digest));
    }

    @Override
    public PushOutcome pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException {
        Path target = blobPath(blob.digest);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".tmp-", "");
        try {
            try (InputStream in = new VerifiedStream(source.open(), blob.digest, blob.size,
                    name + " blob " + blob.digest, null); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return PushOutcome.UPLOADED;
    }

    @Override
    public void pushManifest(String mediaType, byte[] bytes) throws IOException {
        String digest = Digests.sha256(bytes);
        Path target = blobPath(digest);
        if (!Files.exists(target)) {
            writeAtomically(target, bytes);
        }
    }

    @Override
    public void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException {
        pushManifest(manifest.mediaType, bytes);
        synchronized (indexLock) {
            ImageIndex idx = index();
            List<Descriptor> kept = new ArrayList<>();
            for (Descriptor d : idx.manifests) {
                String n = d.annotation(MediaTypes.ANNOTATION_REF_NAME);
                boolean replaced = tag == null ? n == null && manifest.digest.equals(d.digest) : tag.equals(n);
                if (!replaced) {
                    kept.add(d);
                }
            }
            Descriptor entry = manifest.copy();
            if (tag != null) {
                entry.annotate(MediaTypes.ANNOTATION_REF_NAME, tag);
            }
            kept.add(entry);
            idx.manifests = kept;
            writeAtomically(dir.resolve(INDEX_FILE), idx.bytes());
        }
    }

    @Override
    public BlobBackend backend() {
        return LocalFsBackend.ofDir(dir.resolve("blobs").resolve("sha256"));
    }

    @Override
    public void close() {
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".tmp-", "");
        try {
            Files.write(tmp, bytes);
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
