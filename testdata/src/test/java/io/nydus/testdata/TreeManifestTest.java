package io.nydus.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tree oracle notices each kind of difference the round-trip tests rely on it to catch. */
class TreeManifestTest {
    @TempDir
    Path tmp;

    private Path tree(String name) throws Exception {
        Path d = tmp.resolve(name);
        Files.createDirectories(d.resolve("sub"));
        Files.writeString(d.resolve("sub/f"), "hello");
        Files.createLink(d.resolve("sub/h"), d.resolve("sub/f"));
        Files.createSymbolicLink(d.resolve("l"), Path.of("sub/f"));
        run("mknod", d.resolve("c").toString(), "c", "1", "3");
        run("setfattr", "-n", "user.a", "-v", "1", d.resolve("sub/f").toString());
        for (Path p : List.of(d.resolve("sub/f"), d.resolve("c"), d.resolve("sub"))) {
            Files.setLastModifiedTime(p, FileTime.from(Instant.ofEpochSecond(1000, 123)));
        }
        run("touch", "-h", "-d", "@1000.000000123", d.resolve("l").toString());
        return d;
    }

    private static void run(String... cmd) throws Exception {
        assertEquals(0, new ProcessBuilder(cmd).inheritIO().start().waitFor());
    }

    private int trees;

    private List<String> diffAfter(String... cmd) throws Exception {
        trees++;
        Path a = tree("a" + trees);
        Path b = tree("b" + trees);
        String[] c = cmd.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = c[i].replace("%T", b.toString());
        }
        run(c);
        return TreeManifest.diff(TreeManifest.of(a), TreeManifest.of(b));
    }

    @Test
    void equalTreesHaveNoDifferences() throws Exception {
        assertEquals(List.of(), TreeManifest.diff(TreeManifest.of(tree("x")), TreeManifest.of(tree("y"))));
    }

    @Test
    void eachAttributeIsCompared() throws Exception {
        assertTrue(!diffAfter("touch", "-h", "-d", "@1000.000000124", "%T/sub/f").isEmpty(), "mtime nanoseconds");
        assertTrue(!diffAfter("setfattr", "-n", "user.a", "-v", "2", "%T/sub/f").isEmpty(), "xattr value");
        assertTrue(!diffAfter("chown", "70000", "%T/sub/f").isEmpty(), "owner");
        assertTrue(!diffAfter("chmod", "4644", "%T/sub/f").isEmpty(), "setuid bit");
        assertTrue(!diffAfter("sh", "-c", "rm %T/sub/h && cp -p %T/sub/f %T/sub/h").isEmpty(), "hard-link group");
        assertTrue(!diffAfter("sh", "-c", "rm %T/c && mknod %T/c c 1 5 && touch -d @1000.000000123 %T/c").isEmpty(), "rdev");
        assertTrue(!diffAfter("sh", "-c", "ln -sfn sub/h %T/l && touch -h -d @1000.000000123 %T/l").isEmpty(), "symlink target");
        assertTrue(!diffAfter("sh", "-c", "printf hellp > %T/sub/f && touch -d @1000.000000123 %T/sub/f").isEmpty(), "content");
    }
}
