package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.blob.CiTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code nydus-image check}: every inode decodes, v5 Merkle digests match their content, every file's chunks add up
 * to its size; with the blobs at hand, the v6 ci tables agree with the bootstrap and every chunk's data
 * decompresses to its digest.
 */
public final class Checker {
    private Checker() {
    }

    /** What was checked. */
    public record Report(long inodes, long files, long chunks, long verifiedChunks, int blobs) {
    }

    public static Report check(RafsSuper sb, Path blobFile, Path blobDir) throws IOException {
        long[] n = new long[4];
        Set<Long> verified = new HashSet<>();
        Map<Integer, CiTable> ciTables = new HashMap<>();
        try (LocalBlobs blobs = new LocalBlobs(sb.blobs(), blobFile, blobDir)) {
            if (blobs.available() && sb.version() == RafsVersion.V6) {
                for (BlobInfo b : sb.blobs()) {
                    if (b.ciUncompressedSize() > 0) {
                        ciTables.put(b.index(), blobs.ciTable(b.index()));
                    }
                }
            }
            sb.walk(e -> {
                n[0]++;
                sb.xattrs(e.ino());
                if (e.inode().isSymlink()) {
                    sb.readlink(e.ino());
                }
                if (e.inode().isReg()) {
                    n[1]++;
                    long total = 0;
                    for (int i = 0; i < e.inode().chunkCount(); i++) {
                        ChunkInfo c = sb.chunk(e.ino(), i);
                        total += c.uncompressedSize();
                        n[2]++;
                        CiTable ci = ciTables.get(c.blobIndex());
                        if (ci != null && c.isResolved()) {
                            ChunkInfo m = ci.chunk(c.index());
                            RafsFormatException.require(m.compressedOffset() == c.compressedOffset()
                                    && m.compressedSize() == c.compressedSize()
                                    && m.uncompressedOffset() == c.uncompressedOffset()
                                    && m.uncompressedSize() == c.uncompressedSize(),
                                    "%s: chunk %d disagrees with the ci table of blob %s", e.path(), i,
                                    sb.blobs().get(c.blobIndex()).blobId());
                        }
                        long key = ((long) c.blobIndex() << 32) | (c.index() & 0xFFFF_FFFFL);
                        if (blobs.available() && !c.isHole() && verified.add(key)) {
                            blobs.read(c, true);
                            n[3]++;
                        }
                    }
                    RafsFormatException.require(total == e.inode().size(), "%s: chunks hold %d bytes, size is %d",
                            e.path(), total, e.inode().size());
                }
                if (sb.version() == RafsVersion.V5) {
                    checkDigest(sb, e);
                }
            });
        }
        return new Report(n[0], n[1], n[2], n[3], sb.blobs().size());
    }

    private static void checkDigest(RafsSuper sb, RafsSuper.Entry e) {
        Digester.Hasher h = sb.digester().newHasher();
        if (e.inode().isDir()) {
            sb.readdir(e.ino(), 0, (name, ino, mode, next) -> {
                h.update(sb.inodeDigest(ino));
                return true;
            });
        } else if (e.inode().isReg()) {
            for (ChunkInfo c : sb.chunks(e.ino())) {
                h.update(c.digest());
            }
        } else if (e.inode().isSymlink()) {
            h.update(sb.readlink(e.ino()));
        }
        RafsFormatException.require(Arrays.equals(h.finish(), sb.inodeDigest(e.ino())), "%s: inode digest mismatch",
                e.path());
    }
}
