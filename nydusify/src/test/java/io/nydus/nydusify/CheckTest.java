package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.ImageManifest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check} finds what is wrong: files that differ from the source, damaged blobs, broken manifests. */
class CheckTest {
    static Path images;

    @TempDir
    Path work;

    @BeforeAll
    static void build() throws IOException {
        images = TestImages.layout();
    }

    private Path converted(String tag) throws IOException {
        Path layout = work.resolve("n-" + tag);
        Cli c = Cli.run("convert", "--source", TestImages.ref(images, tag), "--target", "oci:" + layout + ":n");
        assertEquals(0, c.code(), c.toString());
        return layout;
    }

    @Test
    void listsTheFilesThatDifferFromTheSource() throws IOException {
        Path layout = converted("busybox");
        // busybox-insert is busybox plus /data/inserted: compared with it, the nydus image lacks that directory
        Cli c = Cli.run("check", "--source", TestImages.ref(images, "busybox-insert"), "--target", "oci:" + layout + ":n");
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.out().contains("/data/inserted: missing from the nydus image (dir)"), c.toString());
        assertTrue(c.out().contains("/data/inserted/hello.txt: missing from the nydus image (file)"), c.toString());
        assertTrue(c.err().contains("check of oci:" + layout + ":n failed"), c.toString());
        // without a source only the image itself is validated
        c = Cli.run("check", "--target", "oci:" + layout + ":n");
        assertEquals(0, c.code(), c.toString());
    }

    @Test
    void findsADamagedBlob() throws IOException {
        Path layout = converted("busybox");
        ImageManifest m = ImageManifest.parse(OciLayout.open(layout).manifest("n").bytes(), "manifest");
        // the first blob holds busybox itself at its start: damage a chunk
        Path blob = layout.resolve("blobs/sha256").resolve(Digests.hex(m.layers.get(0).digest));
        try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
            f.seek(1000);
            int b = f.read();
            f.seek(1000);
            f.write(b ^ 0x55);
        }
        Cli c = Cli.run("check", "--source", TestImages.ref(images, "busybox"), "--target", "oci:" + layout + ":n");
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.out().contains("/bin/busybox: chunk 0") && c.out().contains("digest mismatch"), c.toString());
    }
}
