package io.nydus.nydusify;

import io.nydus.blobcache.ChunkSource;
import io.nydus.blobcache.DirectChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The filesystem of a nydus image as the library reads it: the bootstrap through {@link RafsSuper}, file contents
 * chunk by chunk through a {@link DirectChunkSource} (fetched from the blobs' store, decompressed and verified
 * against each chunk's digest). Files are read by a few threads at once, since a registry answers one ranged GET per
 * chunk.
 */
public final class NydusTree {
    private static final int READERS = 4;

    private NydusTree() {
    }

    /** Path → record for every entry of the image. */
    public static Map<String, FileRecord> read(RafsSuper sb, ChunkSource chunks) throws IOException {
        Map<String, FileRecord> out = new LinkedHashMap<>();
        Map<Long, List<String>> names = new HashMap<>();
        List<RafsSuper.Entry> all = new ArrayList<>();
        sb.walk(e -> {
            all.add(e);
            if (!e.inode().isDir()) {
                names.computeIfAbsent(e.ino(), k -> new ArrayList<>()).add(e.path());
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(READERS, r -> {
            Thread t = new Thread(r, "nydusify-check-read");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<Long, Future<String>> contents = new HashMap<>();
            for (RafsSuper.Entry e : all) {
                if (e.inode().isReg() && !contents.containsKey(e.ino())) {
                    contents.put(e.ino(), pool.submit(() -> hash(sb, e, chunks)));
                }
            }
            for (RafsSuper.Entry e : all) {
                Inode in = e.inode();
                int fmt = in.mode() & FileMode.S_IFMT;
                String sha = null;
                if (in.isReg()) {
                    sha = get(contents.get(e.ino()), e.path());
                }
                String target = in.isSymlink() ? new String(sb.readlink(e.ino()), StandardCharsets.UTF_8) : null;
                String device = fmt == FileMode.S_IFCHR || fmt == FileMode.S_IFBLK
                        ? FileMode.major(in.rdev()) + ":" + FileMode.minor(in.rdev()) : null;
                List<String> group = in.isDir() ? List.of() : names.getOrDefault(e.ino(), List.of());
                Map<String, String> xattrs = FileRecord.hexValues(new TreeMap<>(sb.xattrs(e.ino()).asMap()));
                out.put(e.path(), new FileRecord(FileRecord.typeName(fmt), in.mode() & 07777, in.uid(), in.gid(),
                        in.mtime(), in.mtimeNsec(), in.isReg() ? in.size() : 0, sha, target, device,
                        group.size() > 1 ? List.copyOf(group) : List.of(), xattrs, true));
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private static String hash(RafsSuper sb, RafsSuper.Entry e, ChunkSource chunks) throws IOException {
        MessageDigest md = io.nydus.nydusify.oci.Digests.messageDigest("sha256:");
        long total = 0;
        for (int i = 0; i < e.inode().chunkCount(); i++) {
            ChunkInfo c = sb.chunk(e.ino(), i);
            ByteBuffer buf = ByteBuffer.allocate(c.uncompressedSize());
            try {
                chunks.read(c, 0, buf, ReadPriority.ON_DEMAND);
            } catch (IOException ex) {
                throw new NydusifyException(e.path() + ": chunk " + i + ": " + ex.getMessage(), ex);
            }
            md.update(buf.array(), 0, buf.position());
            total += buf.position();
        }
        if (total != e.inode().size()) {
            throw new NydusifyException(e.path() + ": chunks hold " + total + " bytes, the inode says " + e.inode().size());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String get(Future<String> f, String path) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException ex) {
            Throwable c = ex.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            throw new NydusifyException(path + ": " + c, c);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("check interrupted");
        }
    }
}
