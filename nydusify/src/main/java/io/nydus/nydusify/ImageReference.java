package io.nydus.nydusify;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where an image lives, as the user names it:
 * <ul>
 * <li>{@code host[:port]/repo[:tag|@digest]} — a registry (no host part means Docker Hub, as docker does);</li>
 * <li>{@code oci:DIR[:tag]} — an OCI image layout directory (skopeo's syntax; the tag is the
 * {@code org.opencontainers.image.ref.name} of the index entry);</li>
 * <li>{@code oci-archive:FILE[:tag]} — a tar of an OCI image layout.</li>
 * </ul>
 */
public final class ImageReference {
    /** The kinds of place an image can be. */
    public enum Kind { REGISTRY, OCI_LAYOUT, OCI_ARCHIVE }

    public static final String DEFAULT_TAG = "latest";
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern REPO = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");

    private final Kind kind;
    private final String host;
    private final String repository;
    private final Path path;
    private final String tag;
    private final String digest;

    private ImageReference(Kind kind, String host, String repository, Path path, String tag, String digest) {
        this.kind = kind;
        this.host = host;
        this.repository = repository;
        this.path = path;
        this.tag = tag;
        this.digest = digest;
    }

    public static ImageReference parse(String ref) {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("empty image reference");
        }
        String s = ref.trim();
        if (s.startsWith("oci:")) {
            return layout(Kind.OCI_LAYOUT, s.substring(4), ref);
        }
        if (s.startsWith("oci-archive:")) {
            return layout(Kind.OCI_ARCHIVE, s.substring(12), ref);
        }
        if (s.startsWith("docker://")) {
            s = s.substring(9);
        }
        if (s.contains("://")) {
            throw new IllegalArgumentException("image reference '" + ref + "' must not carry a URL scheme");
        }
        String digest = null;
        int at = s.indexOf('@');
        if (at >= 0) {
            digest = s.substring(at + 1);
            s = s.substring(0, at);
            if (!io.nydus.nydusify.oci.Digests.isValid(digest)) {
                throw new IllegalArgumentException("image reference '" + ref + "': '" + digest + "' is not a digest");
            }
        }
        String tag = null;
        int colon = s.lastIndexOf(':');
        if (colon > s.lastIndexOf('/')) {
            tag = s.substring(colon + 1);
            s = s.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw new IllegalArgumentException("image reference '" + ref + "': '" + tag + "' is not a valid tag");
            }
        }
        String host;
        String repo;
        int slash = s.indexOf('/');
        String first = slash < 0 ? "" : s.substring(0, slash);
        if (slash > 0 && (first.contains(".") || first.contains(":") || first.equals("localhost"))) {
            host = first;
            repo = s.substring(slash + 1);
        } else {
            host = DOCKER_HUB;
            repo = slash < 0 ? "library/" + s : s;
        }
        if (!REPO.matcher(repo).matches()) {
            throw new IllegalArgumentException("image reference '" + ref + "': '" + repo + "' is not a repository name");
        }
        if (tag == null && digest == null) {
            tag = DEFAULT_TAG;
        }
        return new ImageReference(Kind.REGISTRY, host, repo, null, tag, digest);
    }

    private static ImageReference layout(Kind kind, String rest, String ref) {
        // Like skopeo: the path ends at the first colon; what follows is the tag.
        int colon = rest.indexOf(':');
        String dir = colon < 0 ? rest : rest.substring(0, colon);
        String tag = colon < 0 ? null : rest.substring(colon + 1);
        if (dir.isEmpty()) {
            throw new IllegalArgumentException("image reference '" + ref + "' names no directory or file");
        }
        if (tag != null && tag.isEmpty()) {
            tag = null;
        }
        String digest = null;
        if (tag != null && tag.startsWith("@")) {
            digest = tag.substring(1);
            tag = null;
        }
        return new ImageReference(kind, null, null, Path.of(dir), tag, digest);
    }

    public Kind kind() {
        return kind;
    }

    public boolean isRegistry() {
        return kind == Kind.REGISTRY;
    }

    /** "host[:port]" for registries. */
    public String host() {
        return host;
    }

    /** The host to connect to: Docker Hub's API lives on registry-1.docker.io. */
    public String apiHost() {
        return DOCKER_HUB.equals(host) ? "registry-1.docker.io" : host;
    }

    public String repository() {
        return repository;
    }

    /** Directory of an OCI layout or file of an OCI archive. */
    public Path path() {
        return path;
    }

    /** The tag, or null (a digest reference, or a layout reference naming no tag). */
    public String tag() {
        return tag;
    }

    public String digest() {
        return digest;
    }

    /** The digest if given, else the tag (null when neither). */
    public String reference() {
        return digest != null ? digest : tag;
    }

    public ImageReference withTag(String newTag) {
        return new ImageReference(kind, host, repository, path, newTag, null);
    }

    /** Same place, tag + suffix ({@code --target-suffix}). */
    public ImageReference withTagSuffix(String suffix) {
        if (digest != null) {
            throw new IllegalArgumentException("--target-suffix needs a source tag, not a digest: " + this);
        }
        return withTag((tag == null ? DEFAULT_TAG : tag) + suffix);
    }

    /** Whether two references name the same registry host (cross-repository mounts are possible). */
    public boolean sameRegistry(ImageReference o) {
        return kind == Kind.REGISTRY && o.kind == Kind.REGISTRY && host.equals(o.host);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case REGISTRY -> host + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
            case OCI_LAYOUT -> "oci:" + path + (tag != null ? ":" + tag : "") + (digest != null ? ":@" + digest : "");
            case OCI_ARCHIVE -> "oci-archive:" + path + (tag != null ? ":" + tag : "") + (digest != null ? ":@" + digest : "");
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageReference r && r.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return Objects.hash(toString());
    }
}
