package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {
    @Test
    void registryReferences() {
        ImageReference r = ImageReference.parse("127.0.0.1:5000/team/app:v1");
        assertEquals(ImageReference.Kind.REGISTRY, r.kind());
        assertEquals("127.0.0.1:5000", r.host());
        assertEquals("team/app", r.repository());
        assertEquals("v1", r.tag());
        assertEquals("v1", r.reference());

        r = ImageReference.parse("registry.example.com/app@sha256:" + "a".repeat(64));
        assertNull(r.tag());
        assertEquals("sha256:" + "a".repeat(64), r.reference());

        r = ImageReference.parse("localhost/app");
        assertEquals("localhost", r.host());
        assertEquals("latest", r.tag());

        r = ImageReference.parse("busybox");
        assertEquals("docker.io", r.host());
        assertEquals("registry-1.docker.io", r.apiHost());
        assertEquals("library/busybox", r.repository());
        assertEquals("docker.io/library/busybox:latest", r.toString());

        assertEquals("127.0.0.1:5000/app:v1-nydus",
                ImageReference.parse("127.0.0.1:5000/app:v1").withTagSuffix("-nydus").toString());
    }

    @Test
    void layoutsAndArchives() {
        ImageReference r = ImageReference.parse("oci:/tmp/layout:v1");
        assertEquals(ImageReference.Kind.OCI_LAYOUT, r.kind());
        assertEquals(Path.of("/tmp/layout"), r.path());
        assertEquals("v1", r.tag());
        r = ImageReference.parse("oci:relative/dir");
        assertNull(r.tag());
        r = ImageReference.parse("oci-archive:/tmp/img.tar:app");
        assertEquals(ImageReference.Kind.OCI_ARCHIVE, r.kind());
        assertEquals("app", r.tag());
        assertEquals("oci:/tmp/layout:v1-nydus", ImageReference.parse("oci:/tmp/layout:v1").withTagSuffix("-nydus").toString());
    }

    @Test
    void badReferences() {
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("https://host/app"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("host:5000/App:v1"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("host/app:bad tag"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("host/app@sha256:xyz"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("oci:"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(""));
    }
}
