package io.nydus.nydusify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.blobcache.registry.RegistryCredentials;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.Json;
import io.nydus.nydusify.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code nydusify mount}: fetches and verifies a nydus image's bootstrap layer, writes a nydusd config whose backend
 * is the image's registry repository (or the blobs directory of an OCI layout), and runs {@code nydusd fuse} in the
 * foreground. SIGTERM/SIGINT are passed on to nydusd, and the mountpoint is unmounted when it ends.
 */
public final class NydusdMount {
    private final RegistryOptions options;
    private final List<Platform> platforms;
    private final Path nydusd;
    private final Progress progress;

    public NydusdMount(RegistryOptions options, List<Platform> platforms, Path nydusd, Progress progress) {
        this.options = options;
        this.platforms = platforms;
        this.nydusd = nydusd;
        this.progress = progress;
    }

    /** The files a mount runs from. */
    public record Prepared(Path bootstrap, Path config, Path cacheDir) {
    }

    /** Writes {@code image.boot} and {@code nydusd.json} into {@code workDir}. */
    public Prepared prepare(ImageReference ref, Path workDir) throws IOException {
        Files.createDirectories(workDir);
        Path boot = workDir.resolve("image.boot");
        Path cache = workDir.resolve("cache");
        Files.createDirectories(cache);
        ObjectNode backend = Json.MAPPER.createObjectNode();
        ImageStore store = ImageStores.open(ref, options, workDir, false);
        // An archive's unpacked layout is the localfs backend's directory: kept for the life of the mount, removed
        // with the work directory.
        boolean keepStore = false;
        try {
            Manifest top = store.manifest(ref.reference());
            Manifest m = top;
            if (PlatformFilter.isIndex(top)) {
                ImageIndex idx = ImageIndex.parse(top.bytes(), "index " + top.digest() + " of " + ref);
                PlatformFilter f = new PlatformFilter(platforms, false);
                List<PlatformFilter.Entry> nydus = f.nydusManifests(store, idx);
                if (nydus.isEmpty()) {
                    throw new NydusifyException(ref + ": no nydus manifest for " + f.describe());
                }
                m = nydus.get(0).manifest();
            }
            ImageManifest man = ImageManifest.parse(m.bytes(), "manifest " + m.digest() + " of " + ref);
            if (!man.isNydus()) {
                throw new NydusifyException(ref + " is not a nydus image (its last layer is no bootstrap layer)");
            }
            Descriptor layer = man.bootstrapLayer();
            try (InputStream in = new VerifiedStream(store.openBlob(layer), null, layer.size,
                    "bootstrap layer " + layer.digest + " of " + ref, null)) {
                BootstrapLayer.read(in, boot, "bootstrap layer " + layer.digest + " of " + ref);
            }
            if (ref.isRegistry()) {
                backend.put("type", "registry");
                ObjectNode c = backend.putObject("config");
                c.put("scheme", options.plainHttp() ? "http" : "https");
                c.put("host", ref.apiHost());
                c.put("repo", ref.repository());
                c.put("skip_verify", options.insecure());
                c.put("timeout", 30);
                c.put("connect_timeout", 10);
                c.put("retry_limit", 2);
                RegistryCredentials cr = options.credentials(ref.host(), System.getenv());
                if (cr.hasPassword()) {
                    c.put("auth", Base64.getEncoder().encodeToString(
                            (cr.username() + ":" + cr.password()).getBytes(StandardCharsets.UTF_8)));
                } else if (cr.registryToken() != null) {
                    c.put("registry_token", cr.registryToken());
                }
            } else {
                Path layoutDir = ref.path();
                if (store instanceof OciArchive archive) {
                    layoutDir = archive.layout().dir();
                    keepStore = true;
                }
                backend.put("type", "localfs");
                backend.putObject("config").put("dir", layoutDir.toAbsolutePath().resolve("blobs/sha256").toString());
            }
        } finally {
            if (!keepStore) {
                store.close();
            }
        }
        ObjectNode config = Json.MAPPER.createObjectNode();
        ObjectNode device = config.putObject("device");
        device.set("backend", backend);
        ObjectNode cacheNode = device.putObject("cache");
        cacheNode.put("type", "blobcache");
        cacheNode.putObject("config").put("work_dir", cache.toAbsolutePath().toString());
        config.put("mode", "direct");
        config.put("amplify_io", Long.getLong("nydusify.amplifyIo", 0));
        config.put("digest_validate", false);
        config.put("iostats_files", false);
        config.put("enable_xattr", true);
        // Prefetch what the image's prefetch table lists (nothing when it has none), behind on-demand reads.
        config.putObject("fs_prefetch").put("enable", true).put("prefetch_all", false).put("threads_count", 4);
        Path configFile = workDir.resolve("nydusd.json");
        Files.writeString(configFile, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        return new Prepared(boot, configFile, cache);
    }

    /**
     * Mounts and waits until nydusd ends (unmounted, or signalled); returns nydusd's exit code.
     *
     * @param removeWorkDir remove {@code workDir} (bootstrap, config, chunk cache) when the mount ends
     */
    public int run(ImageReference ref, Path mountpoint, Path workDir, boolean removeWorkDir) throws IOException {
        if (!Files.isDirectory(mountpoint)) {
            throw new NydusifyException("mountpoint " + mountpoint + " is not a directory");
        }
        Prepared p;
        try {
            p = prepare(ref, workDir);
        } catch (IOException | RuntimeException e) {
            if (removeWorkDir) {
                WorkDir.delete(workDir);
            }
            throw e;
        }
        List<String> cmd = new ArrayList<>(List.of(nydusd.toString(), "fuse", "--config", p.config().toString(),
                "--mountpoint", mountpoint.toAbsolutePath().toString(), "--bootstrap", p.bootstrap().toString(),
                "--apisock", workDir.resolve("api.sock").toAbsolutePath().toString()));
        Process proc;
        try {
            proc = new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            throw new NydusifyException("cannot start nydusd " + nydusd + ": " + e.getMessage(), e);
        }
        progress.info("mounting " + ref + " at " + mountpoint + " (nydusd pid " + proc.pid() + ")");
        Thread hook = new Thread(() -> {
            stop(proc, mountpoint);
            if (removeWorkDir) {
                WorkDir.delete(workDir);
            }
        }, "nydusify-unmount");
        Runtime.getRuntime().addShutdownHook(hook);
        int code;
        try {
            code = proc.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(proc, mountpoint);
            return 130;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down: the hook does the rest
        }
        unmount(mountpoint);
        if (removeWorkDir) {
            WorkDir.delete(workDir);
        }
        return code;
    }

    private static void stop(Process proc, Path mountpoint) {
        if (proc.isAlive()) {
            proc.destroy(); // SIGTERM: nydusd unmounts and exits
            try {
                if (!proc.waitFor(10, TimeUnit.SECONDS)) {
                    proc.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        unmount(mountpoint);
    }

    /** Lazily unmounts {@code mountpoint} if a FUSE filesystem is still mounted there. */
    static void unmount(Path mountpoint) {
        if (!isMounted(mountpoint)) {
            return;
        }
        try {
            Process p = new ProcessBuilder("fusermount", "-u", "-z", mountpoint.toAbsolutePath().toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // nothing more to do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether /proc/self/mountinfo lists {@code mountpoint}. */
    public static boolean isMounted(Path mountpoint) {
        String mp = mountpoint.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].replace("\\040", " ").equals(mp)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
