package io.nydus.blobcache.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files one blob has in a cache {@code work_dir} (notes §5.5), named as upstream nydusd names them so that
 * either daemon can reuse the other's cache:
 *
 * <pre>
 * &lt;blob_id&gt;.blob.data            uncompressed chunk data at each chunk's uncompressed offset (sparse)
 * &lt;blob_id&gt;.blob.data.chunk_map  readiness bitmap, see {@link ChunkMap}
 * &lt;blob_id&gt;.blob.meta            ci table: [uncompressed ci, zero padded to 4096][ci header 4096 B]
 * &lt;blob_id&gt;.blob.digest          32-byte chunk digests in chunk index order (blob.digest TOC section)
 * &lt;blob_id&gt;.blob.toc             the blob's TOC entries followed by their tar header
 * &lt;blob_id&gt;.blob.raw             compressed chunk data (cache.compressed=true; not written by this cache)
 * </pre>
 */
public record BlobCacheFiles(Path workDir, String blobId) {
    static final String DATA = ".blob.data";
    static final String CHUNK_MAP = ".blob.data.chunk_map";
    static final String META = ".blob.meta";
    static final String DIGEST = ".blob.digest";
    static final String TOC = ".blob.toc";
    static final String RAW = ".blob.raw";

    /**
     * Deletion order: the readiness bitmap goes first, so that a crash in the middle never leaves a bitmap that
     * claims chunks whose data file is gone.
     */
    static final List<String> SUFFIXES = List.of(CHUNK_MAP, DATA, META, DIGEST, TOC, RAW);

    public BlobCacheFiles {
        if (!isBlobId(blobId)) {
            throw new IllegalArgumentException("invalid blob id '" + blobId + "' for a cache file name");
        }
    }

    /** Blob ids name files: refuse anything that could escape the work dir. */
    static boolean isBlobId(String id) {
        return !id.isEmpty() && id.length() <= 128 && !id.startsWith(".") && id.chars().allMatch(
                c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'
                        || c == '_' || c == '.');
    }

    /** The blob id a cache file belongs to, or null when the name is not one of ours. */
    static String blobIdOf(String fileName) {
        for (String s : SUFFIXES) {
            // CHUNK_MAP is listed before DATA, so ".blob.data.chunk_map" is not taken for a data file.
            if (fileName.endsWith(s)) {
                String id = fileName.substring(0, fileName.length() - s.length());
                return isBlobId(id) ? id : null;
            }
        }
        return null;
    }

    public Path data() {
        return workDir.resolve(blobId + DATA);
    }

    public Path chunkMap() {
        return workDir.resolve(blobId + CHUNK_MAP);
    }

    public Path meta() {
        return workDir.resolve(blobId + META);
    }

    public Path digest() {
        return workDir.resolve(blobId + DIGEST);
    }

    public Path toc() {
        return workDir.resolve(blobId + TOC);
    }

    public List<Path> all() {
        return SUFFIXES.stream().map(s -> workDir.resolve(blobId + s)).toList();
    }

    /** Total apparent size of the files that exist. */
    long bytesOnDisk() {
        long sum = 0;
        for (Path p : all()) {
            try {
                sum += Files.size(p);
            } catch (NoSuchFileException e) {
                // not there
            } catch (IOException e) {
                // unreadable: counts as nothing, deletion will tell
            }
        }
        return sum;
    }

    /** Deletes every cache file of the blob, bitmap first. */
    void deleteAll() throws IOException {
        for (Path p : all()) {
            Files.deleteIfExists(p);
        }
    }

    private static final Pattern TEMP = Pattern.compile(".+\\.blob\\.[a-z_.]+\\.tmp(\\d+)-\\d+");

    /** Whether a file name is a temporary file of {@link #writeAtomically} whose process is gone. */
    static boolean isStaleTemp(String fileName) {
        Matcher m = TEMP.matcher(fileName);
        if (!m.matches()) {
            return false;
        }
        try {
            return ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Writes a whole small file under a temporary name ({@code <name>.tmp<pid>-<thread>}) and renames it, so no
     * partial file has the final name.
     */
    static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp" + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().getId());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads a small cache file, or returns null when it does not exist. */
    static byte[] readIfExists(Path p, long maxBytes) throws IOException {
        try {
            long size = Files.size(p);
            if (size > maxBytes) {
                throw new IOException(p + ": " + size + " bytes, more than the " + maxBytes + " expected");
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
