package io.nydus.builder;

import io.nydus.testdata.TreeManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The Linux EROFS driver as an oracle: RAFS v6 with uncompressed blobs is EROFS with an extra device. */
final class KernelErofs {
    private KernelErofs() {
    }

    /** Mounts {@code bootstrap} with {@code blob} as its device, compares with {@code expected}, runs fsck.erofs. */
    static void assertMountEquals(Path bootstrap, Path blob, Path expected, Path mnt) throws IOException {
        Sh.run("fsck.erofs", "--device=" + blob, bootstrap.toString());
        Files.createDirectories(mnt);
        String loopBlob = Sh.stdout("losetup", "-f", "--show", blob.toString()).trim();
        String loopMeta = null;
        try {
            loopMeta = Sh.stdout("losetup", "-f", "--show", bootstrap.toString()).trim();
            Sh.run("mount", "-t", "erofs", "-o", "ro,device=" + loopBlob, loopMeta, mnt.toString());
            try {
                Sh.run("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches");
                TreeManifest.assertSame(expected, mnt, TreeManifest.Options.DEFAULT.withRootAttributes());
            } finally {
                Sh.run("umount", mnt.toString());
            }
        } finally {
            if (loopMeta != null) {
                Sh.exec("losetup", "-d", loopMeta);
            }
            Sh.exec("losetup", "-d", loopBlob);
        }
    }
}
