package io.nydus.snapshotter.pull;

import io.nydus.snapshotter.ImageReference;
import java.util.regex.Pattern;

/**
 * A reference to pull: where the image is ({@link ImageReference}: host and repository, docker's normalisation) and
 * which one (tag and/or digest; {@code latest} when neither is given). {@link #name()} is the name the image gets
 * in containerd's image store and in the {@code cri.image-ref} label, as CRI names images
 * ({@code busybox} → {@code docker.io/library/busybox:latest}).
 *
 * @param tag    the tag, or null when only a digest is given
 * @param digest the manifest digest ({@code sha256:…}), or null
 */
public record ImageName(ImageReference location, String tag, String digest) {
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    /** Parses {@code [host/]repo[:tag][@digest]}; IllegalArgumentException naming the reference otherwise. */
    public static ImageName parse(String ref) {
        ImageReference location = ImageReference.parse(ref);
        String r = ref.trim();
        int scheme = r.indexOf("://");
        if (scheme >= 0) {
            r = r.substring(scheme + 3);
        }
        String digest = null;
        int at = r.indexOf('@');
        if (at >= 0) {
            digest = r.substring(at + 1);
            r = r.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw new IllegalArgumentException("invalid digest \"" + digest + "\" in image reference \"" + ref
                        + "\" (sha256:<64 hex digits>)");
            }
        }
        String tag = null;
        int colon = r.lastIndexOf(':');
        if (colon > r.lastIndexOf('/')) {
            tag = r.substring(colon + 1);
            if (!TAG.matcher(tag).matches()) {
                throw new IllegalArgumentException("invalid tag \"" + tag + "\" in image reference \"" + ref + "\"");
            }
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageName(location, tag, digest);
    }

    /** What the registry's manifest endpoint is asked for: the digest when there is one, else the tag. */
    public String reference() {
        return digest != null ? digest : tag;
    }

    /** {@code host/repo[:tag][@digest]}, fully qualified. */
    public String name() {
        return location.host() + "/" + location.repo() + (tag != null ? ":" + tag : "")
                + (digest != null ? "@" + digest : "");
    }

    @Override
    public String toString() {
        return name();
    }
}
