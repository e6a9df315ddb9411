package io.nydus.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsVersion;
import io.nydus.testdata.TreeManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failover through a supervisor, as upstream's snapshotter drives it: the daemon hands its FUSE device to the
 * supervisor ({@code sendfd}), dies with SIGKILL while a file is open and a read is pending, and a successor
 * started with {@code --upgrade} takes the same mount over ({@code takeover}, {@code start}). The pending read
 * completes with the right bytes, the open file keeps reading, the tree is intact; the test plays the supervisor.
 * Both with the image on the command line and in a shared daemon, where it was mounted through the API at /img.
 */
class FailoverTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "shared daemon: {0}")
    @ValueSource(booleans = {false, true})
    void aSuccessorTakesOverTheMountWhileAFileIsOpen(boolean shared) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        BuiltImageTest.populate(src);
        byte[] big = new byte[16 * MIB];
        new Random(7).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        Path out = Files.createDirectories(dir.resolve("out"));
        Path boot = BuiltImageTest.build(src, out, "img", RafsVersion.V6, Compressor.ZSTD, Digester.SHA256)
                .bootstrap();
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, BuiltImageTest.config(out.resolve("blobs")));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path supervisor = dir.resolve("supervisor.sock");
        List<String> args = new ArrayList<>(List.of("fuse", "--config", cfg.toString(), "--mountpoint",
                mnt.toString(), "--supervisor", supervisor.toString(), "--id", "failover"));
        if (!shared) {
            args.addAll(List.of("--bootstrap", boot.toString()));
        }
        Path root = shared ? mnt.resolve("img") : mnt;
        int listening = UnixFdSocket.listen(supervisor);
        UnixFdSocket.Message held = null;
        try (NydusdProcess first = NydusdProcess.start(dir, with(args, "--apisock", dir.resolve("1.sock")))) {
            first.cleanUp(mnt);
            first.awaitState(dir.resolve("1.sock"), "RUNNING");
            if (shared) {
                assertEquals(204, new UnixHttp(dir.resolve("1.sock")).send("POST", ApiServer.MOUNT + "?mountpoint=/img",
                        BuiltImageTest.mountBody(boot, BuiltImageTest.config(out.resolve("blobs")))).status());
            }
            try (FileChannel ch = FileChannel.open(root.resolve("big.bin"))) {
                assertArrayEquals(Arrays.copyOfRange(big, 0, MIB), read(ch, 0, MIB));

                CompletableFuture<UnixFdSocket.Message> received = CompletableFuture.supplyAsync(() -> serveOnce(
                        listening, c -> UnixFdSocket.receive(c)));
                assertEquals(204, new UnixHttp(dir.resolve("1.sock")).send("PUT", ApiServer.SENDFD, null).status());
                held = received.get(10, TimeUnit.SECONDS);
                assertTrue(held.fd() >= 0 && held.data().length > 0, "the supervisor holds the device");

                MountInfo.dropCaches();
                first.process().destroyForcibly();
                assertTrue(first.process().waitFor(10, TimeUnit.SECONDS));
                assertTrue(MountInfo.isMounted(mnt), "the supervisor's copy of the device keeps the mount");
                CompletableFuture<byte[]> pending = CompletableFuture.supplyAsync(() -> {
                    try {
                        return read(ch, 12 * MIB, MIB);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                Thread.sleep(300);
                assertFalse(pending.isDone(), "with no daemon the read waits (it does not fail)");

                Path sock2 = dir.resolve("2.sock");
                try (NydusdProcess second = NydusdProcess.start(dir, with(with(args, "--apisock", sock2), "--upgrade",
                        null))) {
                    second.awaitState(sock2, "INIT");
                    UnixFdSocket.Message give = held;
                    CompletableFuture<Object> sent = CompletableFuture.supplyAsync(() -> serveOnce(listening, c -> {
                        UnixFdSocket.send(c, give.data(), give.fd());
                        return null;
                    }));
                    UnixHttp api = new UnixHttp(sock2);
                    UnixHttp.Response r = api.send("PUT", ApiServer.TAKEOVER, null);
                    assertEquals(204, r.status(), r.body() + second.stderr());
                    sent.get(10, TimeUnit.SECONDS);
                    UnixFdSocket.close(held.fd());
                    held = null;
                    assertEquals(204, api.send("PUT", ApiServer.DAEMON_START, null).status());
                    second.awaitState(sock2, "RUNNING");

                    assertArrayEquals(Arrays.copyOfRange(big, 12 * MIB, 13 * MIB), pending.get(30, TimeUnit.SECONDS),
                            "the read left pending by the dead daemon");
                    assertArrayEquals(big, read(ch, 0, big.length), "the file opened before the takeover");
                    MountInfo.dropCaches();
                    TreeManifest.assertSame(src, root, TreeManifest.Options.DEFAULT);
                    assertEquals(0, second.awaitExitAfterTerm(), second.stderr());
                }
            }
            assertFalse(MountInfo.isMounted(mnt));
        } finally {
            if (held != null) {
                UnixFdSocket.close(held.fd());
            }
            UnixFdSocket.close(listening);
        }
    }

    private static List<String> with(List<String> args, String option, Object value) {
        List<String> l = new ArrayList<>(args);
        l.add(option);
        if (value != null) {
            l.add(value.toString());
        }
        return l;
    }

    private static byte[] read(FileChannel ch, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    /** What the supervisor does with one connection. */
    @FunctionalInterface
    private interface Exchange<T> {
        T on(int connection) throws IOException;
    }

    private static <T> T serveOnce(int listening, Exchange<T> exchange) {
        try {
            int c = UnixFdSocket.accept(listening);
            try {
                return exchange.on(c);
            } finally {
                UnixFdSocket.close(c);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
