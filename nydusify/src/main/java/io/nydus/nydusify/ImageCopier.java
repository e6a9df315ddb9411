package io.nydus.nydusify;

import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies images between stores byte for byte (digests unchanged): every blob of every manifest, then the manifests,
 * then the index. Blobs the target has are skipped; between repositories of one registry they are mounted.
 * {@link #copy} leaves tagging to the caller, who does it last.
 */
public final class ImageCopier {
    /** Largest config blob read into memory. */
    static final int MAX_DOCUMENT = 16 << 20;

    private final ImageStore source;
    private final ImagePusher pusher;
    private final Progress progress;

    public ImageCopier(ImageStore source, ImagePusher pusher, Progress progress) {
        this.source = source;
        this.pusher = pusher;
        this.progress = progress;
    }

    /**
     * Copies an image (manifest or index) and returns the descriptor and bytes to tag. With a filter, an index is
     * narrowed to the entries it selects: one entry becomes a plain manifest, several a new index.
     */
    public Copied copy(Manifest top, PlatformFilter filter, String name) throws IOException {
        String type = PlatformFilter.mediaType(top);
        if (!PlatformFilter.isIndex(top)) {
            copyManifest(top, name);
            return new Copied(new Descriptor(type, top.digest(), top.size()), top.bytes());
        }
        ImageIndex idx = ImageIndex.parse(top.bytes(), "index " + top.digest() + " of " + name);
        List<Descriptor> chosen = filter == null ? idx.manifests : filter.select(idx, null);
        if (chosen.isEmpty()) {
            throw new NydusifyException(name + ": index " + top.digest() + " has no manifest for " + filter.describe());
        }
        Manifest first = null;
        for (Descriptor d : chosen) {
            Manifest m = source.manifest(d.digest);
            copyManifest(m, name);
            first = first == null ? m : first;
        }
        if (filter == null || chosen.size() == idx.manifests.size()) {
            pusher.pushManifest(type, top.bytes());
            return new Copied(new Descriptor(type, top.digest(), top.size()), top.bytes());
        }
        if (chosen.size() == 1) {
            return new Copied(new Descriptor(PlatformFilter.mediaType(first), first.digest(), first.size()),
                    first.bytes());
        }
        idx.manifests = new ArrayList<>(chosen); // the index narrowed to the chosen entries
        byte[] bytes = idx.bytes();
        pusher.pushManifest(type, bytes);
        return new Copied(new Descriptor(type, io.nydus.nydusify.oci.Digests.sha256(bytes), bytes.length), bytes);
    }

    /** What to tag after a copy. */
    public record Copied(Descriptor descriptor, byte[] bytes) {
    }

    /** Copies one manifest's config and layers, then the manifest itself (by digest, untagged). */
    public void copyManifest(Manifest m, String name) throws IOException {
        String type = PlatformFilter.mediaType(m);
        if (PlatformFilter.isIndex(m)) {
            ImageIndex idx = ImageIndex.parse(m.bytes(), "index " + m.digest() + " of " + name);
            for (Descriptor d : idx.manifests) {
                copyManifest(source.manifest(d.digest), name);
            }
            pusher.pushManifest(type, m.bytes());
            return;
        }
        ImageManifest man = ImageManifest.parse(m.bytes(), "manifest " + m.digest() + " of " + name);
        copyBlob(man.config, name);
        for (Descriptor l : man.layers) {
            copyBlob(l, name);
        }
        pusher.pushManifest(type, m.bytes());
    }

    public void copyBlob(Descriptor d, String name) throws IOException {
        if (d.urls != null && !d.urls.isEmpty() && !source.hasBlob(d.digest)) {
            return; // a foreign layer lives at its URLs, not in the repository
        }
        Progress.Task task = progress.start("blob " + LayerConverter.shortDigest(d.digest), d.size);
        try {
            pusher.pushBlob(d, BlobSource.of(d.size, () -> new VerifiedStream(source.openBlob(d), null, d.size,
                    "blob " + d.digest + " of " + name, task::update)), source);
        } finally {
            task.abandon();
        }
    }

    /** Reads a small blob (config) whole, verified. */
    static byte[] readDocument(ImageStore store, Descriptor d, String what) throws IOException {
        if (d.size > MAX_DOCUMENT) {
            throw new NydusifyException(what + " " + d.digest + ": " + d.size + " bytes is too large");
        }
        try (InputStream in = new VerifiedStream(store.openBlob(d), null, d.size, what + " " + d.digest, null)) {
            return in.readAllBytes();
        }
    }
}
