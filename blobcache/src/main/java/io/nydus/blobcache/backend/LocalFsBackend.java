package io.nydus.blobcache.backend;

import io.nydus.blobcache.BackendMetrics;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Blobs in local directories ({@code localfs} backend: {@code dir}, {@code alt_dirs}, {@code blob_file}). A blob is
 * the file named by its id in the first directory that has it; {@code blob_file} serves every id from one file.
 */
public final class LocalFsBackend implements BlobBackend {
    private final List<Path> dirs;
    private final Path blobFile;
    private final Map<String, FileChannel> open = new ConcurrentHashMap<>();
    private final BackendMetrics metrics = new BackendMetrics();

    public LocalFsBackend(Path dir, List<Path> altDirs, Path blobFile) {
        List<Path> d = new ArrayList<>();
        if (dir != null) {
            d.add(dir);
        }
        d.addAll(altDirs);
        this.dirs = List.copyOf(d);
        this.blobFile = blobFile;
    }

    public static LocalFsBackend ofDir(Path dir) {
        return new LocalFsBackend(dir, List.of(), null);
    }

    @Override
    public String type() {
        return "localfs";
    }

    private FileChannel channel(String blobId) throws IOException {
        FileChannel ch = open.get(blobId);
        if (ch != null) {
            return ch;
        }
        Path p = locate(blobId);
        FileChannel opened = FileChannel.open(p, StandardOpenOption.READ);
        FileChannel prev = open.putIfAbsent(blobId, opened);
        if (prev != null) {
            opened.close();
            return prev;
        }
        return opened;
    }

    private Path locate(String blobId) throws IOException {
        if (blobFile != null) {
            return blobFile;
        }
        if (blobId.isEmpty() || blobId.contains("/") || blobId.startsWith(".")) {
            throw new IOException("invalid blob id '" + blobId + "'");
        }
        for (Path d : dirs) {
            Path p = d.resolve(blobId);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new FileNotFoundException("blob " + blobId + " not found in " + dirs);
    }

    @Override
    public long blobSize(String blobId) throws IOException {
        return channel(blobId).size();
    }

    @Override
    public void read(String blobId, long offset, byte[] dst, int dstOff, int len, ReadPriority priority)
            throws IOException {
        long start = metrics.begin();
        boolean ok = false;
        try {
            FileChannel ch = channel(blobId);
            ByteBuffer bb = ByteBuffer.wrap(dst, dstOff, len);
            long pos = offset;
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos);
                if (n < 0) {
                    throw new EOFException("blob " + blobId + ": " + len + " bytes at " + offset + " past its end ("
                            + ch.size() + " bytes)");
                }
                pos += n;
            }
            ok = true;
        } finally {
            metrics.end(start, len, ok);
        }
    }

    @Override
    public BackendMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() throws IOException {
        for (FileChannel ch : open.values()) {
            ch.close();
        }
        open.clear();
    }
}
