package io.nydus.builder;

import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * {@code nydus-image inspect}: answers the upstream requests ({@code stats}, {@code ls}, {@code cd}, {@code stat},
 * {@code blobs}, {@code prefetch}, {@code chunk <offset>}, {@code icheck <ino>}) about a bootstrap.
 */
public final class Inspector {
    private final RafsSuper sb;
    private String cwd = "/";

    public Inspector(RafsSuper sb) {
        this.sb = sb;
    }

    /** The answer to one request line; throws IllegalArgumentException for unknown requests or paths. */
    public String answer(String request) throws IOException {
        String[] w = request.trim().split("\\s+", 2);
        String arg = w.length > 1 ? w[1].trim() : "";
        return switch (w[0]) {
            case "stats" -> stats();
            case "ls" -> ls(arg.isEmpty() ? cwd : resolve(arg));
            case "cd" -> {
                String p = resolve(arg.isEmpty() ? "/" : arg);
                if (!sb.inode(ino(p)).isDir()) {
                    throw new IllegalArgumentException(p + " is not a directory");
                }
                cwd = p;
                yield "";
            }
            case "stat" -> stat(resolve(arg));
            case "blobs" -> blobs();
            case "prefetch" -> prefetch();
            case "chunk" -> chunk(arg);
            case "icheck" -> icheck(Long.parseLong(arg));
            default -> throw new IllegalArgumentException("unknown request '" + w[0]
                    + "' (stats, ls, cd, stat, blobs, prefetch, chunk, icheck)");
        };
    }

    private String resolve(String p) {
        String abs = p.startsWith("/") ? p : (cwd.equals("/") ? "" : cwd) + "/" + p;
        return abs.length() > 1 && abs.endsWith("/") ? abs.substring(0, abs.length() - 1) : abs;
    }

    private long ino(String path) {
        long ino = sb.lookupPath(path);
        if (ino < 0) {
            throw new IllegalArgumentException("no such file: " + path);
        }
        return ino;
    }

    private String stats() {
        return "Version:              " + sb.version() + "\n"
                + "Flags:                0x" + Long.toHexString(sb.flags()) + "\n"
                + "Compressor:           " + sb.compressor().cliName() + "\n"
                + "Digester:             " + sb.digester().cliName() + "\n"
                + "Chunk Size:           0x" + Integer.toHexString(sb.chunkSize()) + "\n"
                + "Inodes Count:         " + sb.inodeCount() + "\n"
                + "Root Inode:           " + sb.rootIno() + "\n"
                + "Blobs Count:          " + sb.blobs().size() + "\n"
                + "Prefetch Inodes:      " + sb.prefetchInodes().length + "\n"
                + "Bootstrap Size:       " + sb.bootstrapSize() + "\n";
    }

    private String ls(String dir) {
        StringBuilder sb2 = new StringBuilder();
        sb.readdir(ino(dir), 0, (name, ino, mode, next) -> {
            Inode in = sb.inode(ino);
            sb2.append(String.format("%-10s %8d %6d  %s%n", FileMode.isDir(mode) ? "dir" : FileMode.isSymlink(mode)
                    ? "symlink" : FileMode.isReg(mode) ? "file" : "special", ino, in.size(),
                    new String(name, StandardCharsets.UTF_8)));
            return true;
        });
        return sb2.toString();
    }

    private String stat(String path) {
        long ino = ino(path);
        Inode in = sb.inode(ino);
        StringBuilder s = new StringBuilder();
        s.append("Path:       ").append(path).append('\n');
        s.append("Inode:      ").append(ino).append('\n');
        s.append("Mode:       0").append(Integer.toOctalString(in.mode())).append('\n');
        s.append("Uid:        ").append(in.uid()).append("  Gid: ").append(in.gid()).append('\n');
        s.append("Nlink:      ").append(in.nlink()).append('\n');
        s.append("Size:       ").append(in.size()).append('\n');
        s.append("Blocks:     ").append(in.blocks()).append('\n');
        s.append("Mtime:      ").append(in.mtime()).append('.').append(String.format("%09d", in.mtimeNsec())).append('\n');
        if (in.rdev() != 0) {
            s.append("Rdev:       ").append(FileMode.major(in.rdev())).append(':').append(FileMode.minor(in.rdev())).append('\n');
        }
        if (in.isSymlink()) {
            s.append("Target:     ").append(new String(sb.readlink(ino), StandardCharsets.UTF_8)).append('\n');
        }
        for (Map.Entry<String, byte[]> x : sb.xattrs(ino).asMap().entrySet()) {
            s.append("Xattr:      ").append(x.getKey()).append("=0x").append(HexFormat.of().formatHex(x.getValue())).append('\n');
        }
        if (in.isReg()) {
            s.append("Chunks:     ").append(in.chunkCount()).append('\n');
            for (int i = 0; i < in.chunkCount(); i++) {
                s.append("  ").append(sb.chunk(ino, i)).append('\n');
            }
        }
        return s.toString();
    }

    private String blobs() {
        StringBuilder s = new StringBuilder();
        for (BlobInfo b : sb.blobs()) {
            s.append(String.format("Blob Index:           %d%n", b.index()));
            s.append(String.format("Blob ID:              %s%n", b.blobId()));
            s.append(String.format("Chunk Count:          %d%n", b.chunkCount()));
            s.append(String.format("Compressed Size:      %d%n", b.compressedSize()));
            s.append(String.format("Uncompressed Size:    %d%n", b.uncompressedSize()));
            s.append(String.format("Compressor:           %s%n", b.compressor().cliName()));
            s.append(String.format("Digester:             %s%n", b.digester().cliName()));
            s.append(String.format("Features:             0x%x%n", b.features()));
            s.append(String.format("Meta:                 offset %d, %d/%d bytes (%s)%n", b.ciOffset(),
                    b.ciCompressedSize(), b.ciUncompressedSize(), b.ciCompressor().cliName()));
            s.append(String.format("TOC:                  %d bytes, digest %s%n%n", b.tocSize(),
                    HexFormat.of().formatHex(b.tocDigest())));
        }
        return s.toString();
    }

    private String prefetch() throws IOException {
        Map<Long, String> paths = paths();
        StringBuilder s = new StringBuilder();
        for (long ino : sb.prefetchInodes()) {
            s.append(ino).append('\t').append(paths.getOrDefault(ino, "?")).append('\n');
        }
        return s.toString();
    }

    private String chunk(String arg) {
        String[] p = arg.split("\\s+");
        if (p.length != 2) {
            throw new IllegalArgumentException("usage: chunk <path> <file offset>");
        }
        long ino = ino(resolve(p[0]));
        long off = Long.decode(p[1]);
        Inode in = sb.inode(ino);
        if (!in.isReg() || off < 0 || off >= in.size()) {
            throw new IllegalArgumentException("offset " + off + " is outside " + p[0]);
        }
        ChunkInfo c = sb.chunk(ino, (int) (off / sb.chunkSize()));
        return c + "\n";
    }

    private String icheck(long ino) throws IOException {
        Map<Long, String> paths = paths();
        String p = paths.get(ino);
        if (p == null) {
            throw new IllegalArgumentException("no inode " + ino);
        }
        return p + "\n" + stat(p);
    }

    private Map<Long, String> paths() throws IOException {
        Map<Long, String> m = new HashMap<>();
        sb.walk(e -> m.putIfAbsent(e.ino(), e.path()));
        return m;
    }
}
