package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.blobcache.ReadPriority;
import io.nydus.testdata.registry.RegistryServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS registries: trusted through ca_cert_files, or not verified at all with skip_verify. */
class RegistryTlsTest {
    @TempDir
    Path work;

    @Test
    void aRegistryWithItsOwnCaIsTrustedThroughCaCertFiles() throws Exception {
        try (RegistryServer r = RegistryServer.withTls(work)) {
            assertEquals("https", r.scheme());
            byte[] blob = TestBlobs.random(50_000, 71);
            String d = TestBlobs.digest(blob);
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host())
                    .caCertFiles(List.of(r.certificate())).build())) {
                c.pushBlob("tls/app", d, BlobSource.ofBytes(blob));
                byte[] dst = new byte[blob.length];
                c.readBlob("tls/app", d, 0, dst, 0, dst.length, ReadPriority.ON_DEMAND);
                assertArrayEquals(blob, dst);
            }
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).build())) {
                RegistryException e = assertThrows(RegistryException.class, () -> c.blobSize("tls/app", d));
                assertTrue(e.getMessage().contains(r.host()) && e.getMessage().toLowerCase().contains("certification"),
                        e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
            }
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).skipVerify(true).build())) {
                assertEquals(blob.length, c.blobSize("tls/app", d));
            }
        }
    }

    @Test
    void skipVerifyFallsBackToHttpForARegistryWithoutTls() throws Exception {
        try (RegistryServer r = RegistryServer.start(work)) {
            byte[] blob = TestBlobs.random(1000, 72);
            String d = TestBlobs.digest(blob);
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).skipVerify(true).build())) {
                c.pushBlob("plain/app", d, BlobSource.ofBytes(blob));
                assertEquals(blob.length, c.blobSize("plain/app", d));
            }
            try (RegistryClient c = new RegistryClient(RegistrySettings.builder(r.host()).build())) {
                RegistryException e = assertThrows(RegistryException.class, () -> c.blobSize("plain/app", d));
                assertTrue(e.getMessage().contains(r.host()), e.getMessage());
            }
        }
    }
}
