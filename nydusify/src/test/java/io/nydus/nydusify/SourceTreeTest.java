package io.nydus.nydusify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

/** The check oracle on hand-made layers: OCI whiteouts, opaque directories, hard links, truncated tars. */
class SourceTreeTest {

    /** A tar of entries "d:path", "f:path=content", "l:path>target" (hard link), "s:path>target" (symlink). */
    static byte[] tar(String... entries) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(b)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String e : entries) {
                char kind = e.charAt(0);
                String rest = e.substring(2);
                TarArchiveEntry te;
                byte[] data = new byte[0];
                switch (kind) {
                    case 'd' -> te = new TarArchiveEntry(rest + "/");
                    case 'f' -> {
                        String[] p = rest.split("=", 2);
                        te = new TarArchiveEntry(p[0]);
                        data = p[1].getBytes(StandardCharsets.UTF_8);
                        te.setSize(data.length);
                    }
                    case 'l' -> {
                        String[] p = rest.split(">", 2);
                        te = new TarArchiveEntry(p[0], TarArchiveEntry.LF_LINK);
                        te.setLinkName(p[1]);
                    }
                    default -> {
                        String[] p = rest.split(">", 2);
                        te = new TarArchiveEntry(p[0], TarArchiveEntry.LF_SYMLINK);
                        te.setLinkName(p[1]);
                    }
                }
                te.setModTime(1_600_000_000_000L);
                t.putArchiveEntry(te);
                t.write(data);
                t.closeArchiveEntry();
            }
        }
        return b.toByteArray();
    }

    static Map<String, FileRecord> apply(byte[]... layers) throws IOException {
        SourceTree t = new SourceTree();
        for (byte[] l : layers) {
            t.apply(new ByteArrayInputStream(l), "layer");
        }
        return t.records();
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesHideLowerLayersOnly() throws IOException {
        Map<String, FileRecord> r = apply(
                tar("d:a", "f:a/x=1", "f:a/y=2", "d:a/sub", "f:a/sub/z=3", "d:o", "f:o/old=4", "f:keep=5"),
                tar("f:a/.wh.x=", "f:a/.wh.sub=", "f:o/new=6", "f:o/.wh..wh..opq=", "f:.wh.nothing="));
        assertEquals(List.of("/", "/a", "/a/y", "/keep", "/o", "/o/new"), List.copyOf(r.keySet()));
        assertEquals("file", r.get("/o/new").type());
    }

    @Test
    void hardLinksFormGroupsUntilReplaced() throws IOException {
        Map<String, FileRecord> r = apply(tar("f:a=same", "l:b>a", "l:c>a"), tar("f:b=other"));
        assertEquals(List.of("/a", "/c"), r.get("/a").links());
        assertEquals(List.of(), r.get("/b").links());
        assertEquals(r.get("/a").sha256(), r.get("/c").sha256());
    }

    @Test
    void replacingADirectoryWithAFileDropsItsSubtree() throws IOException {
        Map<String, FileRecord> r = apply(tar("d:a", "f:a/x=1"), tar("f:a=now a file"), tar("f:b/c/d=implicit"));
        assertEquals(List.of("/", "/a", "/b", "/b/c", "/b/c/d"), List.copyOf(r.keySet()));
        assertFalse(r.get("/b").attributes(), "implicit directories have no attributes of their own");
        assertTrue(r.get("/a").attributes());
    }

    @Test
    void tarsWithoutEndBlocksAreAcceptedButCutEntriesAreNot() throws IOException {
        byte[] full = tar("f:a=hello", "f:b=world!");
        // strip the end-of-archive blocks and the last entry's padding (what umoci insert writes)
        int end = 512 + 512 + 512 + 6;
        Map<String, FileRecord> r = apply(Arrays.copyOf(full, end));
        assertEquals(6, r.get("/b").size());
        assertThrows(NydusifyException.class, () -> apply(Arrays.copyOf(full, end - 2)));
    }
}
