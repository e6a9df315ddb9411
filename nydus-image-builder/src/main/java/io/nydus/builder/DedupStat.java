package io.nydus.builder;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code nydus-image stat}: chunk-level deduplication statistics of one or more bootstraps, and how much of a
 * target image the others already hold.
 */
public final class DedupStat {
    private DedupStat() {
    }

    /** Figures of one image. */
    public record ImageStat(String name, long files, long chunks, long chunkBytes, long uniqueChunks, long uniqueBytes) {
    }

    /** Figures of all images together and of the target against them. */
    public record Report(List<ImageStat> images, long uniqueChunks, long uniqueBytes, long totalBytes,
            ImageStat target, long targetChunksInOthers, long targetBytesInOthers) {
    }

    public static Report stat(List<Path> bootstraps, Path target) throws IOException {
        Map<DigestKey, Integer> all = new HashMap<>();
        List<ImageStat> stats = new ArrayList<>();
        long total = 0;
        for (Path p : bootstraps) {
            ImageStat s = one(p, all);
            stats.add(s);
            total += s.chunkBytes;
        }
        long ub = 0;
        for (int size : all.values()) {
            ub += size;
        }
        ImageStat t = null;
        long inOthers = 0;
        long bytesInOthers = 0;
        if (target != null) {
            Map<DigestKey, Integer> mine = new HashMap<>();
            t = one(target, mine);
            for (Map.Entry<DigestKey, Integer> e : mine.entrySet()) {
                if (all.containsKey(e.getKey())) {
                    inOthers++;
                    bytesInOthers += e.getValue();
                }
            }
        }
        return new Report(stats, all.size(), ub, total, t, inOthers, bytesInOthers);
    }

    private static ImageStat one(Path p, Map<DigestKey, Integer> seen) throws IOException {
        long[] n = new long[3];
        Set<DigestKey> mine = new HashSet<>();
        long[] unique = new long[2];
        try (RafsSuper sb = RafsSuper.open(p)) {
            sb.walk(e -> {
                if (e.inode().isReg()) {
                    n[0]++;
                    for (int i = 0; i < e.inode().chunkCount(); i++) {
                        ChunkInfo c = sb.chunk(e.ino(), i);
                        n[1]++;
                        n[2] += c.uncompressedSize();
                        if (c.digest() != null) {
                            DigestKey k = new DigestKey(c.digest());
                            if (mine.add(k)) {
                                unique[0]++;
                                unique[1] += c.uncompressedSize();
                                seen.putIfAbsent(k, c.uncompressedSize());
                            }
                        }
                    }
                }
            });
        }
        return new ImageStat(p.toString(), n[0], n[1], n[2], unique[0], unique[1]);
    }
}
