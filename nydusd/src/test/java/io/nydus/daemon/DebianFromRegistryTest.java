package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.RegistrySettings;
import io.nydus.builder.CreateOptions;
import io.nydus.builder.CreateResult;
import io.nydus.builder.ImageCreator;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.DebianRootfs;
import io.nydus.testdata.TreeManifest;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Debian minbase image whose blob a real registry serves: programs run from the mount and fetch only what
 * they read; the tree equals the source in every attribute; a registry that stops and returns, and a corrupted
 * copy of the blob in the registry, give EIO for what cannot be verified and never wrong bytes, while the daemon
 * keeps serving.
 */
class DebianFromRegistryTest {
    private static final String REPO = "library/debian-minbase";

    @TempDir
    Path dir;

    private Path config(RegistryServer reg, Path cache) throws IOException {
        Path cfg = Files.createTempFile(dir, "nydusd", ".json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"registry\",\"config\":{\"scheme\":\"http\",\"host\":\""
                + reg.host() + "\",\"repo\":\"" + REPO + "\",\"timeout\":3,\"retry_limit\":0}},"
                + "\"cache\":{\"type\":\"blobcache\",\"config\":{\"work_dir\":\"" + cache + "\"}}},"
                + "\"mode\":\"direct\",\"digest_validate\":true}");
        return cfg;
    }

    private NydusdProcess mount(Path cfg, Path boot, Path mnt, Path sock) throws Exception {
        Files.createDirectories(mnt);
        NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "--config", cfg.toString(), "--mountpoint",
                mnt.toString(), "--bootstrap", boot.toString(), "--apisock", sock.toString()));
        d.awaitState(sock, "RUNNING");
        return d;
    }

    private static String sha256(Path f) throws Exception {
        MessageDigest md = Digester.sha256();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] b = new byte[1 << 20];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void debianMinbaseFromARealRegistry() throws Exception {
        CreateOptions o = new CreateOptions();
        o.sourceType = CreateOptions.SourceType.TAR;
        o.source = DebianRootfs.tar();
        o.bootstrap = dir.resolve("debian.boot");
        o.blobDir = dir.resolve("blobs");
        CreateResult built = ImageCreator.create(o);
        String id = built.blob().blobId();
        assertEquals(id, sha256(built.blobPath()), "without a TOC the blob id is the blob's sha256 (its OCI digest)");
        long blobSize = Files.size(built.blobPath());
        Path rootfs = DebianRootfs.dir();

        RegistryServer reg = RegistryServer.start(dir.resolve("reg"));
        try (RegistryClient client = new RegistryClient(RegistrySettings.builder(reg.host()).scheme("http").build())) {
            client.pushBlob(REPO, "sha256:" + id, BlobSource.ofFile(built.blobPath()));
        }
        Path mnt = dir.resolve("mnt");
        Path sock = dir.resolve("api.sock");
        try (NydusdProcess d = mount(config(reg, dir.resolve("cache")), o.bootstrap, mnt, sock)) {
            UnixHttp api = new UnixHttp(sock);
            MountInfo.dropCaches();
            String packages = ImageChecks.run("chroot", mnt.toString(), "/bin/bash", "-c", "dpkg-query -W");
            assertTrue(packages.contains("bash\t") && packages.contains("dpkg\t") && packages.lines().count() > 50,
                    packages);
            long fetched = api.get(ApiServer.METRICS_BACKEND).json().get("read_amount_total").asLong();
            assertTrue(fetched > 0 && fetched < blobSize / 2, "dpkg-query fetched " + fetched + " of " + blobSize
                    + " bytes");

            // The registry goes away: what was read stays readable, the rest fails with EIO until it is back.
            int port = reg.port();
            reg.close();
            Path cached = mnt.resolve("usr/bin/dpkg-query");
            Path uncached = mnt.resolve("usr/bin/perl");
            MountInfo.dropCaches();
            assertArrayEquals(Files.readAllBytes(rootfs.resolve("usr/bin/dpkg-query")), Files.readAllBytes(cached));
            IOException eio = assertThrows(IOException.class, () -> Files.readAllBytes(uncached));
            assertTrue(eio.getMessage().contains("Input/output error"), eio.getMessage());
            assertTrue(d.process().isAlive());
            reg = RegistryServer.sharingStorage(dir.resolve("reg2"), reg, port);
            assertArrayEquals(Files.readAllBytes(rootfs.resolve("usr/bin/perl")), Files.readAllBytes(uncached));

            MountInfo.dropCaches();
            JsonNode before = api.get(ApiServer.METRICS).json().get("fop_hits");
            TreeManifest.assertSame(rootfs, mnt, TreeManifest.Options.DEFAULT);
            // Listings carry attributes (READDIRPLUS): walking the tree looks hardly any name up by itself.
            JsonNode after = api.get(ApiServer.METRICS).json().get("fop_hits");
            long entries;
            try (var walk = Files.walk(rootfs)) {
                entries = walk.count();
            }
            long lookups = hits(after, FsMetrics.Fop.LOOKUP) - hits(before, FsMetrics.Fop.LOOKUP);
            long listings = hits(after, FsMetrics.Fop.READDIRPLUS) - hits(before, FsMetrics.Fop.READDIRPLUS);
            assertTrue(listings > 0 && lookups < entries / 10, lookups + " lookups and " + listings
                    + " listings for " + entries + " entries");
            assertEquals(0, d.awaitExitAfterTerm());
        }

        // A corrupted copy in the registry: the affected file fails with EIO, never wrong bytes; others read fine.
        try (RafsSuper sb = RafsSuper.open(o.bootstrap)) {
            long target = sb.lookupPath("/usr/bin/bash");
            ChunkInfo c = sb.chunk(target, 0);
            String hex = id;
            Path data = reg.storage().resolve("docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
            try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                ch.read(b, c.compressedOffset() + c.compressedSize() / 2);
                b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
                ch.write(b, c.compressedOffset() + c.compressedSize() / 2);
            }
            Path mnt2 = dir.resolve("mnt2");
            Path sock2 = dir.resolve("api2.sock");
            try (NydusdProcess d = mount(config(reg, dir.resolve("cache2")), o.bootstrap, mnt2, sock2)) {
                IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(mnt2.resolve("usr/bin/bash")));
                assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
                assertArrayEquals(Files.readAllBytes(rootfs.resolve("etc/passwd")),
                        Files.readAllBytes(mnt2.resolve("etc/passwd")));
                assertEquals(200, new UnixHttp(sock2).get(ApiServer.DAEMON).status());
                assertEquals(0, d.awaitExitAfterTerm());
            }
        } finally {
            reg.close();
        }
    }

    private static long hits(JsonNode fopHits, FsMetrics.Fop fop) {
        return fopHits.get(fop.ordinal()).asLong();
    }
}
