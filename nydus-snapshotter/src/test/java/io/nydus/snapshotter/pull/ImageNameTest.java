package io.nydus.snapshotter.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** References to pull: what the registry is asked for, and the name the image gets in containerd (CRI's). */
class ImageNameTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void namesAreFullyQualifiedAsCriNamesThem() {
        assertEquals("docker.io/library/busybox:latest", ImageName.parse("busybox").name());
        assertEquals("latest", ImageName.parse("busybox").reference());
        assertEquals("127.0.0.1:5000/test/img:nydus", ImageName.parse("127.0.0.1:5000/test/img:nydus").name());
        assertEquals("nydus", ImageName.parse("127.0.0.1:5000/test/img:nydus").reference());
        assertEquals("localhost:5000/a", ImageName.parse("localhost:5000/a").location().host() + "/"
                + ImageName.parse("localhost:5000/a").location().repo());
        assertEquals("latest", ImageName.parse("localhost:5000/a").tag());
        ImageName pinned = ImageName.parse("ghcr.io/a/b:v1@" + DIGEST);
        assertEquals("ghcr.io/a/b:v1@" + DIGEST, pinned.name());
        assertEquals(DIGEST, pinned.reference());
        ImageName byDigest = ImageName.parse("ghcr.io/a/b@" + DIGEST);
        assertEquals(null, byDigest.tag());
        assertEquals("ghcr.io/a/b@" + DIGEST, byDigest.name());
    }

    @Test
    void badReferencesAreRefusedByName() {
        assertEquals("invalid image reference \"UPPER/x\"",
                assertThrows(IllegalArgumentException.class, () -> ImageName.parse("UPPER/x")).getMessage());
        assertEquals("invalid digest \"sha256:12\" in image reference \"a/b@sha256:12\" (sha256:<64 hex digits>)",
                assertThrows(IllegalArgumentException.class, () -> ImageName.parse("a/b@sha256:12")).getMessage());
        assertEquals("invalid tag \"-x\" in image reference \"a/b:-x\"",
                assertThrows(IllegalArgumentException.class, () -> ImageName.parse("a/b:-x")).getMessage());
    }
}
