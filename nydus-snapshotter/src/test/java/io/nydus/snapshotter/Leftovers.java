package io.nydus.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a test may leave behind under its temporary directory even when it fails halfway: processes started
 * for it (containerd shims, container processes, nydusd stand-ins — recognised by the directory on their command
 * line, as their root or as their working directory) and mounts. Removed so JUnit can delete the directory
 * without walking into a mount.
 */
final class Leftovers {
    private Leftovers() {
    }

    static void clean(Path dir) {
        killProcessesUnder(dir);
        if (!MountTable.unmountAll(dir)) {
            System.err.println("still mounted under " + dir + ": " + MountTable.under(dir));
        }
    }

    static List<Long> processesUnder(Path dir) {
        String d = dir.toAbsolutePath().normalize().toString();
        long self = ProcessHandle.current().pid();
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid == self) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    boolean mine = cmdline.contains(d);
                    if (!mine) {
                        mine = startsWith(p.resolve("root"), d) || startsWith(p.resolve("cwd"), d);
                    }
                    if (mine) {
                        found.add(pid);
                    }
                } catch (IOException e) {
                    // exited meanwhile, or a kernel thread
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return found;
    }

    private static boolean startsWith(Path link, String dir) {
        try {
            return Files.readSymbolicLink(link).toString().startsWith(dir);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    static void killProcessesUnder(Path dir) {
        for (int round = 0; round < 5; round++) {
            List<Long> pids = processesUnder(dir);
            if (pids.isEmpty()) {
                return;
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
