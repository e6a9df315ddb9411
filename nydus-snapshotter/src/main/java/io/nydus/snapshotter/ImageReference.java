package io.nydus.snapshotter;

/**
 * An image reference split as the registry backend needs it, with docker's normalisation: a first component
 * without '.', ':' or "localhost" is a Docker Hub repository ({@code busybox} → {@code docker.io/library/busybox}).
 *
 * @param host registry host[:port] as written ({@code docker.io} for Docker Hub)
 * @param repo repository path without tag or digest
 */
public record ImageReference(String host, String repo) {
    public static final String DOCKER_HUB = "docker.io";

    /** Parses {@code [host/]repo[:tag][@digest]}; IllegalArgumentException naming the reference otherwise. */
    public static ImageReference parse(String ref) {
        String r = ref.trim();
        int scheme = r.indexOf("://");
        if (scheme >= 0) {
            r = r.substring(scheme + 3);
        }
        int at = r.indexOf('@');
        if (at >= 0) {
            r = r.substring(0, at);
        }
        int slash = r.indexOf('/');
        String host;
        String path;
        if (slash > 0) {
            String first = r.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                host = first;
                path = r.substring(slash + 1);
            } else {
                host = DOCKER_HUB;
                path = r;
            }
        } else {
            host = DOCKER_HUB;
            path = r;
        }
        int colon = path.lastIndexOf(':');
        if (colon >= 0 && path.indexOf('/', colon) < 0) {
            path = path.substring(0, colon);
        }
        if (host.equals("index.docker.io") || host.equals("registry-1.docker.io")) {
            host = DOCKER_HUB;
        }
        if (host.equals(DOCKER_HUB) && !path.contains("/")) {
            path = "library/" + path;
        }
        if (path.isEmpty() || host.isEmpty() || !path.matches("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")) {
            throw new IllegalArgumentException("invalid image reference \"" + ref + "\"");
        }
        return new ImageReference(host, path);
    }

    /** The host nydusd's registry backend talks to: Docker Hub's API lives at index.docker.io (upstream). */
    public String registryHost() {
        return host.equals(DOCKER_HUB) ? "index.docker.io" : host;
    }
}
