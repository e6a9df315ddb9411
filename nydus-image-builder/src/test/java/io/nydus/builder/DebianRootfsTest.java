package io.nydus.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.testdata.DebianRootfs;
import io.nydus.testdata.TreeManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Debian rootfs (debootstrap minbase) survives create → unpack, and the kernel mounts its v6 image. */
class DebianRootfsTest {
    @TempDir
    Path work;

    private void unpackEqualsRootfs(Path boot, Path blobDir) throws Exception {
        Cli.run("check", "-D", blobDir.toString(), boot.toString()).ok();
        Path tar = work.resolve("out.tar");
        Cli.run("unpack", boot.toString(), "-D", blobDir.toString(), "--output", tar.toString()).ok();
        Path out = work.resolve("out");
        Files.createDirectories(out);
        Sh.run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString(), "-C", out.toString());
        TreeManifest.assertSame(DebianRootfs.dir(), out, TreeManifest.Options.DEFAULT);
    }

    @Test
    void tarSourceWithDefaults() throws Exception {
        Path boot = work.resolve("boot");
        Path blobs = work.resolve("blobs");
        Cli.run("create", "--type", "tar-rafs", "--bootstrap", boot.toString(), "--blob-dir", blobs.toString(),
                DebianRootfs.tar().toString()).ok();
        unpackEqualsRootfs(boot, blobs);
    }

    @Test
    void directorySourceAsV5WithLz4() throws Exception {
        Path boot = work.resolve("boot");
        Path blobs = work.resolve("blobs");
        Cli.run("create", "--fs-version", "5", "--compressor", "lz4_block", "--digester", "blake3", "-B", boot.toString(),
                "-D", blobs.toString(), DebianRootfs.dir().toString()).ok();
        unpackEqualsRootfs(boot, blobs);
    }

    @Test
    void kernelMountsUncompressedV6() throws Exception {
        Path boot = work.resolve("boot");
        Path blob = work.resolve("blob");
        Cli.run("create", "--type", "tar-rafs", "--compressor", "none", "--features", "blob-toc", "-B", boot.toString(),
                "-b", blob.toString(), DebianRootfs.tar().toString()).ok();
        KernelErofs.assertMountEquals(boot, blob, DebianRootfs.dir(), work.resolve("mnt"));
    }

    @Test
    void repeatableBuildsAreByteIdentical() throws Exception {
        Path[] boots = new Path[2];
        for (int i = 0; i < 2; i++) {
            boots[i] = work.resolve("boot" + i);
            Cli.run("create", "--repeatable", "--type", "tar-rafs", "--blob-inline-meta", "--features", "blob-toc",
                    "-B", boots[i].toString(), "-b", work.resolve("blob" + i).toString(),
                    DebianRootfs.tar().toString()).ok();
        }
        assertArrayEquals(Files.readAllBytes(boots[0]), Files.readAllBytes(boots[1]));
        assertArrayEquals(Files.readAllBytes(work.resolve("blob0")), Files.readAllBytes(work.resolve("blob1")));
        assertTrue(Files.size(work.resolve("blob0")) > 10_000_000);
    }
}
