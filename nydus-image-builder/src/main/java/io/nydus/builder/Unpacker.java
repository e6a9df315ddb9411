package io.nydus.builder;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code nydus-image unpack}: writes the image's tree as a tar (PAX format), reading file data from local blobs and
 * verifying every chunk. Hard links become tar link entries; xattrs go into {@code SCHILY.xattr.*} records.
 */
public final class Unpacker {
    private Unpacker() {
    }

    public static void unpack(RafsSuper sb, Path blobFile, Path blobDir, Path outputTar) throws IOException {
        try (LocalBlobs blobs = new LocalBlobs(sb.blobs(), blobFile, blobDir);
                OutputFile out = OutputFile.create(outputTar)) {
            PaxTarWriter tar = new PaxTarWriter(out.stream());
            Map<Long, String> firstLink = new HashMap<>();
            sb.walk(e -> {
                Inode in = e.inode();
                String name = e.path().equals("/") ? "./" : "." + e.path() + (in.isDir() ? "/" : "");
                if (!in.isDir() && in.nlink() > 1) {
                    String first = firstLink.putIfAbsent(e.ino(), name);
                    if (first != null) {
                        tar.putEntry(new PaxTarWriter.Header(name, PaxTarWriter.LINK, in.mode(), in.uid(), in.gid(), 0,
                                in.mtime(), in.mtimeNsec(), first, 0, 0, Map.of()));
                        return;
                    }
                }
                byte type;
                String link = null;
                int t = in.mode() & FileMode.S_IFMT;
                switch (t) {
                    case FileMode.S_IFDIR -> type = PaxTarWriter.DIR;
                    case FileMode.S_IFREG -> type = PaxTarWriter.REG;
                    case FileMode.S_IFLNK -> {
                        type = PaxTarWriter.SYMLINK;
                        link = new String(sb.readlink(e.ino()), StandardCharsets.UTF_8);
                    }
                    case FileMode.S_IFCHR -> type = PaxTarWriter.CHR;
                    case FileMode.S_IFBLK -> type = PaxTarWriter.BLK;
                    case FileMode.S_IFIFO -> type = PaxTarWriter.FIFO;
                    default -> {
                        return; // sockets cannot be archived
                    }
                }
                tar.putEntry(new PaxTarWriter.Header(name, type, in.mode(), in.uid(), in.gid(), in.size(), in.mtime(),
                        in.mtimeNsec(), link, FileMode.major(in.rdev()), FileMode.minor(in.rdev()),
                        sb.xattrs(e.ino()).asMap()));
                if (t == FileMode.S_IFREG) {
                    for (int i = 0; i < in.chunkCount(); i++) {
                        ChunkInfo c = sb.chunk(e.ino(), i);
                        byte[] data = blobs.read(c, true);
                        tar.write(data);
                    }
                    tar.pad();
                }
            });
            tar.finish();
            out.commit();
        }
    }
}
