package io.nydus.snapshotter.pull;

import io.nydus.blobcache.registry.DockerConfigCredentials;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.RegistrySettings;
import io.nydus.snapshotter.RegistryCredentials;
import java.io.Console;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code containerd-nydus-grpc pull}: {@link ImagePull} with {@code ctr image pull}'s flag names. */
@Command(name = "pull", sortOptions = false, usageHelpWidth = 100,
        header = "Pull an image for a snapshotter as CRI does (nydus images: only the bootstrap layer)",
        description = {"Pull an image into containerd for a snapshotter the way containerd's CRI plugin does for "
            + "remote snapshotters: fetch the manifest and config, then let the snapshotter decide per layer. For a "
            + "nydus image only the bootstrap layer is fetched and unpacked; its data layers are committed as "
            + "remote snapshots and read lazily by nydusd once a container runs. An ordinary OCI image is fetched "
            + "and unpacked whole. Afterwards 'ctr run --snapshotter nydus REF …' works as for any pulled image.",
            "",
            "Needed because 'ctr image pull' of containerd 1.6 fetches every blob, passes no snapshot labels and "
            + "has no stream processor for nydus blob layers."},
        footer = {"", "Registry credentials: --user, else the docker config.json ($DOCKER_CONFIG or ~/.docker).",
            "Credentials given with --user also go to the snapshotter, for the nydusd that reads the image: as",
            "labels containerd.io/snapshot/pullusername and .../pullsecret of the nydus bootstrap layer.",
            "", "Exit status 0 when the image is pulled; 1 with a one-line error otherwise."})
public final class PullCommand implements Callable<Integer> {
    /**
     * blobcache logs retries as warnings; the one-line error at the end says what finally went wrong. A field,
     * because JUL holds loggers weakly and a collected one forgets its level.
     */
    private static final Logger REGISTRY_LOG = Logger.getLogger("io.nydus.blobcache");

    @Option(names = {"-a", "--address"}, paramLabel = "SOCKET",
            defaultValue = "${env:CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}",
            description = "containerd's gRPC socket (default: ${DEFAULT-VALUE}; $CONTAINERD_ADDRESS)")
    Path address;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE",
            defaultValue = "${env:CONTAINERD_NAMESPACE:-default}",
            description = "containerd namespace (default: ${DEFAULT-VALUE}; $CONTAINERD_NAMESPACE)")
    String namespace;

    @Option(names = "--snapshotter", paramLabel = "NAME", defaultValue = "nydus",
            description = "snapshotter to unpack for, its name in containerd's proxy_plugins "
                + "(default: ${DEFAULT-VALUE})")
    String snapshotter;

    @Option(names = "--plain-http", description = "talk to the registry over HTTP")
    boolean plainHttp;

    @Option(names = {"-k", "--skip-verify"}, description = "do not verify the registry's TLS certificate")
    boolean skipVerify;

    @Option(names = {"-u", "--user"}, paramLabel = "USER[:PASSWORD]",
            description = "registry user and password (asked for on the terminal when left out)")
    String user;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "platform to pull from a multi-platform image (default: this machine's)")
    String platform;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    @Parameters(paramLabel = "REF", description = "image reference, [host/]repository[:tag][@digest]")
    String ref;

    @Override
    public Integer call() throws IOException {
        ImageName image = ImageName.parse(ref);
        Platform target = platform == null ? Platform.host() : Platform.parse(platform);
        REGISTRY_LOG.setLevel(Level.OFF);
        RegistryCredentials.Credential given = user == null ? null : credential(user);
        RegistrySettings settings = RegistrySettings.builder(image.location().registryHost())
                .scheme(plainHttp ? "http" : "https").skipVerify(skipVerify)
                .timeout(Duration.ofSeconds(60)).connectTimeout(Duration.ofSeconds(15)).retryLimit(2)
                .userAgent("containerd-nydus-grpc-pull").credentials(registryCredentials(image, given)).build();
        try (RegistryClient registry = new RegistryClient(settings);
                Containerd containerd = Containerd.connect(address, namespace)) {
            ImagePull.Result r = new ImagePull(containerd, registry, snapshotter, target, given, System.out::println)
                    .pull(image);
            System.out.println("pulled " + image + " (" + target + ", manifest " + r.manifestDigest()
                    + ") for snapshotter " + snapshotter + ": " + r.count(ImagePull.Outcome.UNPACKED) + " layer(s) "
                    + "unpacked, " + r.count(ImagePull.Outcome.REMOTE) + " remote, "
                    + r.count(ImagePull.Outcome.PRESENT) + " already present");
        } catch (IOException e) {
            throw new IOException("pull " + image + ": " + e.getMessage(), e);
        }
        return 0;
    }

    /** {@code user:password}, or {@code user} with the password read from the terminal as ctr does. */
    private static RegistryCredentials.Credential credential(String user) throws IOException {
        int colon = user.indexOf(':');
        if (colon == 0) {
            throw new IOException("--user needs a user name before ':'");
        }
        if (colon > 0) {
            return new RegistryCredentials.Credential(user.substring(0, colon), user.substring(colon + 1));
        }
        Console console = System.console();
        if (console == null) {
            throw new IOException("--user " + user + " has no :PASSWORD and there is no terminal to ask for it");
        }
        char[] pw = console.readPassword("Password: ");
        return new RegistryCredentials.Credential(user, pw == null ? "" : new String(pw));
    }

    /** The given credentials, else those the docker config.json holds for the registry, else anonymous. */
    private static io.nydus.blobcache.registry.RegistryCredentials registryCredentials(ImageName image,
            RegistryCredentials.Credential given) {
        Optional<RegistryCredentials.Credential> c = given != null ? Optional.of(given)
                : new RegistryCredentials(java.util.Map.of(), DockerConfigCredentials.defaultConfigFile(
                        System.getenv())).find(image.location().host(), java.util.Map.of());
        if (c.isEmpty()) {
            return io.nydus.blobcache.registry.RegistryCredentials.none();
        }
        return c.get().isToken() ? io.nydus.blobcache.registry.RegistryCredentials.bearer(c.get().secret())
                : io.nydus.blobcache.registry.RegistryCredentials.basic(c.get().username(), c.get().secret());
    }
}
