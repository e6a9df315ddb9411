package io.nydus.nydusify;

import io.nydus.blobcache.registry.Manifest;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.nydusify.oci.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Picks the manifests of an index that a command works on: by {@code --platform}, or all of them. */
public final class PlatformFilter {
    private final List<Platform> wanted;
    private final boolean all;

    public PlatformFilter(List<Platform> wanted, boolean all) {
        this.wanted = List.copyOf(wanted);
        this.all = all;
    }

    /** The entries to use; {@code nydus} chooses nydus entries (true), plain ones (false) or both (null). */
    public List<Descriptor> select(ImageIndex index, Boolean nydus) {
        List<Descriptor> out = new ArrayList<>();
        for (Descriptor d : index.manifests) {
            if (!MediaTypes.isManifest(d.mediaType) && d.mediaType != null) {
                continue; // nested indexes and artifacts are not images of a platform
            }
            if (d.platform != null && "unknown".equals(d.platform.os)) {
                continue; // attestation manifests (buildx) ride along in indexes
            }
            if (nydus != null && isNydusEntry(d) != nydus) {
                continue;
            }
            if (all || wanted.stream().anyMatch(p -> p.matches(d.platform))) {
                out.add(d);
            }
        }
        return out;
    }

    /** A manifest an index names, with the entry that names it. */
    public record Entry(Descriptor descriptor, Manifest manifest) {
    }

    /** The nydus image manifests among the entries of {@code index} this filter selects, each fetched once. */
    public List<Entry> nydusManifests(ImageStore store, ImageIndex index) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (Descriptor d : select(index, null)) {
            Manifest m = store.manifest(d.digest);
            if (!isIndex(m) && ImageManifest.parse(m.bytes(), "manifest " + d.digest).isNydus()) {
                out.add(new Entry(d, m));
            }
        }
        return out;
    }

    public String describe() {
        return all ? "any platform" : "platform " + wanted.stream().map(Platform::toString).toList();
    }

    /** An index entry that points at a nydus manifest (artifactType, or the older os.features marker). */
    public static boolean isNydusEntry(Descriptor d) {
        if (MediaTypes.NYDUS_ARTIFACT.equals(d.artifactType)) {
            return true;
        }
        return d.platform != null && d.platform.osFeatures != null
                && d.platform.osFeatures.contains(MediaTypes.NYDUS_OS_FEATURE);
    }

    /** Whether a fetched document is an index (by media type, else by shape). */
    public static boolean isIndex(Manifest m) {
        String t = m.mediaType();
        if (MediaTypes.isIndex(t)) {
            return true;
        }
        if (MediaTypes.isManifest(t)) {
            return false;
        }
        return MediaTypes.isIndex(OciLayout.sniff(m.bytes()));
    }

    /** The manifest's media type, sniffed from its content when the store gave a generic one. */
    public static String mediaType(Manifest m) {
        String t = m.mediaType();
        if (MediaTypes.isIndex(t) || MediaTypes.isManifest(t)) {
            return t;
        }
        return OciLayout.sniff(m.bytes());
    }
}
