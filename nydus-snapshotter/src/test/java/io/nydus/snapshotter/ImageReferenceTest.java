package io.nydus.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Image references split into registry host and repository, with docker's normalisation. */
class ImageReferenceTest {
    @Test
    void splitsAndNormalises() {
        assertEquals(new ImageReference("127.0.0.1:5000", "test/img"), ImageReference.parse("127.0.0.1:5000/test/img:v1"));
        assertEquals(new ImageReference("localhost", "a"), ImageReference.parse("localhost/a"));
        assertEquals(new ImageReference("docker.io", "library/busybox"), ImageReference.parse("busybox"));
        assertEquals(new ImageReference("docker.io", "library/busybox"), ImageReference.parse("docker.io/busybox:1.36"));
        assertEquals(new ImageReference("docker.io", "org/app"), ImageReference.parse("org/app:latest"));
        assertEquals(new ImageReference("docker.io", "org/app"), ImageReference.parse("index.docker.io/org/app"));
        assertEquals(new ImageReference("ghcr.io", "a/b/c"),
                ImageReference.parse("ghcr.io/a/b/c:v1@sha256:" + "0".repeat(64)));
        assertEquals(new ImageReference("r.example:443", "x"), ImageReference.parse("https://r.example:443/x:1"));
        assertEquals("index.docker.io", ImageReference.parse("busybox").registryHost());
        assertEquals("ghcr.io", ImageReference.parse("ghcr.io/a/b").registryHost());
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "UPPER/case", "host.io/", "a//b", "-x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(bad));
            assertEquals("invalid image reference \"" + bad + "\"", e.getMessage());
        }
    }
}
