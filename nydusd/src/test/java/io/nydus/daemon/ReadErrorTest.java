package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.Inode;
import io.nydus.rafs.RafsSuper;
import io.nydus.testdata.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunk that fails verification, or a blob the backend cannot supply, fails that read with EIO; the daemon
 * keeps serving everything else and serves the file again once the blob is good.
 */
class ReadErrorTest {
    static final String BOOT = "repeatable/sha256-nocompress-repeatable";
    static final String BLOB = "7334a2594e133cf8ae364189c2276b090fc490c627bcc3fb1077f0419a538e00";

    @TempDir
    Path dir;

    private record Target(String path, ChunkInfo chunk, byte[] content) {
    }

    /** The largest file and another file whose chunks do not overlap it. */
    private static List<Target> targets(RafsSuper sb, Path blob) throws IOException {
        List<RafsSuper.Entry> files = new ArrayList<>();
        sb.walk(e -> {
            if (e.inode().isReg() && e.inode().size() > 0) {
                files.add(e);
            }
        });
        files.sort((a, b) -> Long.compare(b.inode().size(), a.inode().size()));
        RafsSuper.Entry big = files.get(0);
        ChunkInfo first = sb.chunk(big.ino(), 0);
        RafsSuper.Entry other = null;
        for (RafsSuper.Entry e : files) {
            boolean shares = false;
            for (ChunkInfo c : sb.chunks(e.ino())) {
                for (ChunkInfo b : sb.chunks(big.ino())) {
                    shares |= c.compressedOffset() == b.compressedOffset();
                }
            }
            if (!shares) {
                other = e;
                break;
            }
        }
        return List.of(new Target(big.path(), first, content(sb, big.ino(), big.inode(), blob)),
                new Target(other.path(), sb.chunk(other.ino(), 0), content(sb, other.ino(), other.inode(), blob)));
    }

    /** The file's bytes straight from the (uncompressed) blob, as the reference. */
    private static byte[] content(RafsSuper sb, long ino, Inode in, Path blob) throws IOException {
        byte[] out = new byte[(int) in.size()];
        try (FileChannel ch = FileChannel.open(blob)) {
            for (ChunkInfo c : sb.chunks(ino)) {
                if (!c.isHole()) {
                    ch.read(ByteBuffer.wrap(out, (int) c.fileOffset(), c.uncompressedSize()), c.compressedOffset());
                }
            }
        }
        return out;
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
            ch.write(b, offset);
        }
    }

    private NydusdProcess start(Path blobs, Path mnt, Path sock) throws Exception {
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"device\":{\"backend\":{\"type\":\"localfs\",\"config\":{\"dir\":\"" + blobs
                + "\"}}},\"mode\":\"direct\",\"digest_validate\":true}");
        NydusdProcess d = NydusdProcess.start(dir, List.of("fuse", "-C", cfg.toString(), "-M", mnt.toString(),
                "-B", Fixtures.get(BOOT).toString(), "-A", sock.toString()));
        d.awaitState(sock, "RUNNING");
        return d;
    }

    @Test
    void corruptedChunkFailsWithEioAndTheDaemonRecovers() throws Exception {
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path blob = Files.copy(Fixtures.get("repeatable/blobs/" + BLOB), blobs.resolve(BLOB));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (RafsSuper sb = RafsSuper.open(Fixtures.get(BOOT)); NydusdProcess d = start(blobs, mnt, sock)) {
            List<Target> t = targets(sb, blob);
            Target bad = t.get(0);
            Target good = t.get(1);
            flipByte(blob, bad.chunk().compressedOffset() + 7);

            IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(mnt.resolve(bad.path().substring(1))));
            assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
            assertArrayEquals(good.content(), Files.readAllBytes(mnt.resolve(good.path().substring(1))));
            assertTrue(d.process().isAlive());
            UnixHttp api = new UnixHttp(sock);
            assertTrue(api.get(ApiServer.METRICS).json().get("fop_errors").get(FsMetrics.Fop.READ.ordinal())
                    .asLong() > 0);

            flipByte(blob, bad.chunk().compressedOffset() + 7);
            MountInfo.dropCaches();
            assertArrayEquals(bad.content(), Files.readAllBytes(mnt.resolve(bad.path().substring(1))));
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }

    @Test
    void missingBlobFailsWithEioUntilItAppears() throws Exception {
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sock = dir.resolve("api.sock");
        try (RafsSuper sb = RafsSuper.open(Fixtures.get(BOOT)); NydusdProcess d = start(blobs, mnt, sock)) {
            Target t = targets(sb, Fixtures.get("repeatable/blobs/" + BLOB)).get(0);
            Path file = mnt.resolve(t.path().substring(1));
            // Metadata needs no blob.
            assertEquals(t.content().length, Files.size(file));
            IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(file));
            assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
            assertTrue(new UnixHttp(sock).get(ApiServer.METRICS_BACKEND).json().get("read_errors").asLong() >= 0);

            Files.copy(Fixtures.get("repeatable/blobs/" + BLOB), blobs.resolve(BLOB));
            assertArrayEquals(t.content(), Files.readAllBytes(file));
            assertTrue(d.process().isAlive());
            assertEquals(0, d.awaitExitAfterTerm());
        }
    }
}
