package io.nydus.snapshotter.pull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.snapshotter.RegistryCredentials;
import io.nydus.snapshotter.api.content.Info;
import io.nydus.snapshotter.api.types.Descriptor;
import io.nydus.snapshotter.api.types.Mount;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Pulls an image into containerd for a snapshotter the way containerd's CRI plugin does for remote snapshotters,
 * over containerd's API: the manifest and config are stored in containerd's content store, then each layer is
 * Prepared with the labels of {@link UnpackLabels}. The snapshotter decides from them: AlreadyExists means it has the
 * layer without anyone fetching it (a nydus data blob, read later by nydusd); otherwise the layer is fetched into
 * the content store, unpacked by containerd's diff service onto the returned mounts (containerd applies whiteouts)
 * and committed under its chain id. Last, the config is labelled with the top snapshot (so containerd counts the
 * image as unpacked for this snapshotter, and its garbage collector keeps the snapshots) and the image record is
 * created. Everything is held by a lease until then; the lease is deleted at the end, also on failure, so a failed
 * pull leaves only garbage.
 *
 * <p>Stock {@code ctr image pull} of containerd 1.6 cannot do this: it fetches every blob before unpacking, passes no
 * snapshot labels and has no stream processor for nydus blob layers.
 */
public final class ImagePull {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DISTRIBUTION_SOURCE = "containerd.io/distribution.source.";
    private static final String GC_CONTENT = "containerd.io/gc.ref.content.";
    private static final String GC_SNAPSHOT = "containerd.io/gc.ref.snapshot.";
    private static final String UNCOMPRESSED = "containerd.io/uncompressed";
    /** ctr's default: a killed pull's lease outlives any pull, then containerd collects what it held. */
    private static final Duration LEASE_EXPIRY = Duration.ofHours(24);
    private static final long MAX_CONFIG = 32L << 20;
    private static final Duration LOCKED_RETRY = Duration.ofMinutes(10);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What became of a layer. */
    public enum Outcome {
        /** Its snapshot existed already (an earlier pull). */
        PRESENT,
        /** The snapshotter has it without it being fetched (a nydus data blob). */
        REMOTE,
        /** Fetched (unless containerd had the blob), unpacked and committed. */
        UNPACKED
    }

    public record Layer(Descriptor descriptor, String chainId, Outcome outcome) {
    }

    /** The pulled image: name, root descriptor (index or manifest), the platform's manifest and its layers. */
    public record Result(ImageName image, Descriptor target, String manifestDigest, List<Layer> layers) {
        public long count(Outcome o) {
            return layers.stream().filter(l -> l.outcome() == o).count();
        }
    }

    private final Containerd containerd;
    private final RegistryClient registry;
    private final String snapshotter;
    private final Platform platform;
    private final RegistryCredentials.Credential pullSecret;
    private final Consumer<String> progress;

    /**
     * @param registry    a client of the image's registry
     * @param pullSecret  credentials given to this pull (not those found in a docker config), handed to the
     *                    snapshotter for nydusd; null if none
     * @param progress    receives one line per step
     */
    public ImagePull(Containerd containerd, RegistryClient registry, String snapshotter, Platform platform,
            RegistryCredentials.Credential pullSecret, Consumer<String> progress) {
        this.containerd = containerd;
        this.registry = registry;
        this.snapshotter = snapshotter;
        this.platform = platform;
        this.pullSecret = pullSecret;
        this.progress = progress;
    }

    public Result pull(ImageName image) throws IOException {
        String repo = image.location().repo();
        Manifest root = registry.getManifest(repo, image.reference());
        JsonNode rootJson = parse(root.bytes(), "manifest " + root.digest());
        Descriptor target = descriptor(mediaType(root, rootJson), root.digest(), root.size());
        progress.accept("resolved " + image + ": " + target.getMediaType() + " " + target.getDigest());

        String lease = "containerd-nydus-grpc-pull-" + HexFormat.of().formatHex(randomBytes(8));
        containerd.createLease(lease, LEASE_EXPIRY);
        Result result;
        try {
            result = pull(image, root, rootJson, target, new Leased(containerd.withLease(lease), lease));
        } catch (IOException | RuntimeException e) {
            try {
                containerd.deleteLease(lease);
            } catch (ContainerdException d) {
                e.addSuppressed(d);
            }
            throw e;
        }
        try {
            containerd.deleteLease(lease);
        } catch (ContainerdException e) {
            progress.accept("warning: " + e.getMessage() + " (containerd removes it after " + LEASE_EXPIRY.toHours()
                    + " h)");
        }
        return result;
    }

    /** containerd with every call held by lease {@code id}. */
    private record Leased(Containerd containerd, String id) {
    }

    private Result pull(ImageName image, Manifest root, JsonNode rootJson, Descriptor target, Leased c)
            throws IOException {
        String repo = image.location().repo();
        Manifest manifest = root;
        JsonNode manifestJson = rootJson;
        int indexPosition = -1;
        if (isIndex(target.getMediaType())) {
            indexPosition = choose(image, rootJson);
            String digest = rootJson.path("manifests").get(indexPosition).path("digest").asText();
            manifest = registry.getManifest(repo, digest);
            manifestJson = parse(manifest.bytes(), "manifest " + digest);
            String type = mediaType(manifest, manifestJson);
            if (!isManifest(type)) {
                throw new IOException(image + ": the " + platform + " entry of its index is a " + type
                        + ", not an image manifest");
            }
        } else if (!isManifest(target.getMediaType())) {
            throw new IOException(image + ": " + target.getMediaType() + " is not an image manifest or index");
        }

        Descriptor configDesc = descriptor(manifestJson.path("config"), "config of manifest " + manifest.digest());
        List<Descriptor> layers = new ArrayList<>();
        for (JsonNode l : manifestJson.path("layers")) {
            layers.add(descriptor(l, "layer of manifest " + manifest.digest()));
        }
        byte[] config = readConfig(repo, configDesc);
        JsonNode configJson = parse(config, "image config " + configDesc.getDigest());
        if (indexPosition < 0 && !platform.matches(configJson)) {
            throw new IOException(image + " is an image for " + configJson.path("os").asText() + "/"
                    + configJson.path("architecture").asText() + ", not " + platform + " (--platform)");
        }
        List<String> diffIds = new ArrayList<>();
        configJson.path("rootfs").path("diff_ids").forEach(d -> diffIds.add(d.asText()));
        if (diffIds.size() != layers.size()) {
            throw new IOException(image + ": the manifest has " + layers.size() + " layers but the config "
                    + diffIds.size() + " diff_ids");
        }

        // Children before parents, so that a parent's gc labels only ever name content that is there.
        Map<String, String> source = Map.of(DISTRIBUTION_SOURCE + image.location().host(), repo);
        store(c, "config", configDesc, config, repo, source);
        Map<String, String> manifestLabels = new LinkedHashMap<>(source);
        manifestLabels.put(GC_CONTENT + "config", configDesc.getDigest());
        for (int i = 0; i < layers.size(); i++) {
            manifestLabels.put(GC_CONTENT + "l." + i, layers.get(i).getDigest());
        }
        Descriptor manifestDesc = indexPosition < 0 ? target
                : descriptor(mediaType(manifest, manifestJson), manifest.digest(), manifest.size());
        store(c, "manifest", manifestDesc, manifest.bytes(), repo, manifestLabels);
        if (indexPosition >= 0) {
            Map<String, String> indexLabels = new LinkedHashMap<>(source);
            // keyed by position in the index, so pulling another platform later keeps this one's reference
            indexLabels.put(GC_CONTENT + "m." + indexPosition, manifest.digest());
            store(c, "index", target, root.bytes(), repo, indexLabels);
        }

        List<String> chain = ChainIds.of(diffIds);
        List<Layer> done = new ArrayList<>();
        String parent = "";
        for (int i = 0; i < layers.size(); i++) {
            Descriptor layer = layers.get(i);
            Outcome o = c.containerd().snapshotExists(snapshotter, chain.get(i)) ? Outcome.PRESENT
                    : unpack(c, image, manifest.digest(), layers, i, parent, chain.get(i), diffIds.get(i), source);
            done.add(new Layer(layer, chain.get(i), o));
            progress.accept("layer " + (i + 1) + "/" + layers.size() + " " + layer.getDigest() + " ("
                    + layer.getMediaType() + ", " + layer.getSize() + " bytes): " + describe(o));
            parent = chain.get(i);
        }
        if (!chain.isEmpty()) {
            c.containerd().labelContent(configDesc.getDigest(), Map.of(GC_SNAPSHOT + snapshotter, parent));
        }
        c.containerd().putImage(image.name(), target);
        return new Result(image, target, manifest.digest(), done);
    }

    private static String describe(Outcome o) {
        return switch (o) {
            case PRESENT -> "already unpacked";
            case REMOTE -> "remote, not fetched";
            case UNPACKED -> "unpacked";
        };
    }

    /** The position of the first index entry for the platform, as containerd picks it. */
    private int choose(ImageName image, JsonNode index) throws IOException {
        List<String> offered = new ArrayList<>();
        JsonNode entries = index.path("manifests");
        for (int i = 0; i < entries.size(); i++) {
            JsonNode p = entries.get(i).path("platform");
            if (platform.matches(p)) {
                return i;
            }
            offered.add(p.path("os").asText("?") + "/" + p.path("architecture").asText("?"));
        }
        throw new IOException(image + " has no manifest for " + platform + " (its index offers " + offered
                + "; --platform)");
    }

    /**
     * Prepares, and unless the snapshotter answers that it has the layer, fetches, unpacks and commits one layer.
     * A Prepare that reports AlreadyExists although the chain id is not there yet (a concurrent pull removed it) is
     * tried again, as containerd's unpacker does.
     */
    private Outcome unpack(Leased c, ImageName image, String manifestDigest, List<Descriptor> layers, int i,
            String parent, String chainId, String diffId, Map<String, String> source) throws IOException {
        Descriptor layer = layers.get(i);
        Map<String, String> labels = UnpackLabels.forLayer(image, manifestDigest, layers, i, chainId, pullSecret);
        for (int attempt = 1; ; attempt++) {
            // containerd's snapshots.UnpackKeyFormat: "extract-<unique> <chain id>"
            String key = "extract-" + System.nanoTime() + "-" + HexFormat.of().formatHex(randomBytes(4)) + " "
                    + chainId;
            List<Mount> mounts;
            try {
                mounts = c.containerd().prepare(snapshotter, key, parent, labels);
            } catch (ContainerdException e) {
                if (e.code() == Status.Code.ALREADY_EXISTS) {
                    if (c.containerd().snapshotExists(snapshotter, chainId)) {
                        return Outcome.REMOTE;
                    }
                    if (attempt < 3) {
                        continue;
                    }
                }
                throw e;
            }
            try {
                store(c, "layer", layer, null, image.location().repo(), source);
                Descriptor applied = c.containerd().apply(layer, mounts);
                if (!applied.getDigest().equals(diffId)) {
                    throw new IOException("layer " + layer.getDigest() + " unpacks to " + applied.getDigest()
                            + ", but the image config says its diff_id is " + diffId);
                }
                c.containerd().commit(snapshotter, chainId, key, labels);
            } catch (ContainerdException e) {
                removeQuietly(c, key, e);
                if (e.code() == Status.Code.ALREADY_EXISTS && c.containerd().snapshotExists(snapshotter, chainId)) {
                    return Outcome.PRESENT; // a concurrent pull committed it first
                }
                throw e;
            } catch (IOException | RuntimeException e) {
                removeQuietly(c, key, e);
                throw e;
            }
            c.containerd().labelContent(layer.getDigest(), Map.of(UNCOMPRESSED, diffId));
            return Outcome.UNPACKED;
        }
    }

    private void removeQuietly(Leased c, String key, Exception cause) {
        try {
            c.containerd().removeSnapshot(snapshotter, key);
        } catch (ContainerdException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Makes sure containerd's content store has a blob, held by the lease and carrying {@code labels}: from
     * {@code bytes} when given (manifests and config, already read), else streamed from the registry. Another pull
     * writing the same blob holds its ingest; wait for it, as containerd's own fetcher does.
     */
    private void store(Leased c, String kind, Descriptor desc, byte[] bytes, String repo, Map<String, String> labels)
            throws IOException {
        String digest = desc.getDigest();
        long deadline = System.nanoTime() + LOCKED_RETRY.toNanos();
        Optional<Info> info = c.containerd().contentInfo(digest);
        while (info.isEmpty()) {
            try (InputStream data = bytes != null ? new ByteArrayInputStream(bytes)
                    : registry.openBlob(repo, digest)) {
                // containerd names ingests so: a second client pulling the same blob waits instead of fetching too
                if (c.containerd().writeContent(kind + "-" + digest, desc, data, labels)) {
                    return;
                }
                // containerd had it after all (another pull finished it first): label it as a present blob
                info = c.containerd().contentInfo(digest);
                if (info.isEmpty()) {
                    throw new IOException("containerd reported " + digest + " as stored but has no record of it");
                }
            } catch (ContainerdException e) {
                if (e.code() != Status.Code.UNAVAILABLE || !e.getMessage().contains("locked")
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(500);
                info = c.containerd().contentInfo(digest);
            }
        }
        c.containerd().leaseContent(c.id(), digest);
        c.containerd().labelContent(digest, merged(info.get(), labels));
    }

    /** {@code labels} with the distribution-source repositories already recorded on the blob kept. */
    private static Map<String, String> merged(Info info, Map<String, String> labels) {
        Map<String, String> m = new LinkedHashMap<>(labels);
        for (Map.Entry<String, String> e : labels.entrySet()) {
            String old = info.getLabelsMap().get(e.getKey());
            if (e.getKey().startsWith(DISTRIBUTION_SOURCE) && old != null && !old.isEmpty()
                    && !Arrays.asList(old.split(",")).contains(e.getValue())) {
                m.put(e.getKey(), old + "," + e.getValue());
            }
        }
        return m;
    }

    private byte[] readConfig(String repo, Descriptor desc) throws IOException {
        if (desc.getSize() > MAX_CONFIG) {
            throw new IOException("image config " + desc.getDigest() + " claims " + desc.getSize()
                    + " bytes; refusing more than " + MAX_CONFIG);
        }
        try (InputStream in = registry.openBlob(repo, desc.getDigest())) {
            // one byte more than expected: reaching the end makes the stream check the digest
            byte[] b = in.readNBytes((int) desc.getSize() + 1);
            if (b.length != desc.getSize()) {
                throw new IOException("image config " + desc.getDigest() + " is " + (b.length > desc.getSize()
                        ? "longer" : "shorter") + " than the " + desc.getSize() + " bytes of its descriptor");
            }
            return b;
        }
    }

    private static JsonNode parse(byte[] bytes, String what) throws IOException {
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new IOException(what + " is not a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new IOException(what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** The registry's Content-Type, else the document's own mediaType, else what its fields say it is. */
    private static String mediaType(Manifest m, JsonNode json) {
        if (isIndex(m.mediaType()) || isManifest(m.mediaType())) {
            return m.mediaType();
        }
        String own = json.path("mediaType").asText("");
        if (!own.isEmpty()) {
            return own;
        }
        return json.has("manifests") ? RegistryClient.OCI_INDEX : RegistryClient.OCI_MANIFEST;
    }

    private static boolean isIndex(String mediaType) {
        return mediaType.equals(RegistryClient.OCI_INDEX) || mediaType.equals(RegistryClient.DOCKER_MANIFEST_LIST);
    }

    private static boolean isManifest(String mediaType) {
        return mediaType.equals(RegistryClient.OCI_MANIFEST) || mediaType.equals(RegistryClient.DOCKER_MANIFEST);
    }

    private static Descriptor descriptor(String mediaType, String digest, long size) {
        return Descriptor.newBuilder().setMediaType(mediaType).setDigest(digest).setSize(size).build();
    }

    /** A descriptor from a manifest's JSON; annotations are kept (they become snapshot labels). */
    private static Descriptor descriptor(JsonNode d, String what) throws IOException {
        String digest = d.path("digest").asText("");
        String mediaType = d.path("mediaType").asText("");
        if (mediaType.isEmpty() || !digest.matches("sha256:[0-9a-f]{64}") || !d.path("size").canConvertToLong()
                || d.path("size").asLong() < 0) {
            throw new IOException(what + " lacks a valid mediaType, digest or size: " + d);
        }
        Descriptor.Builder b = Descriptor.newBuilder().setMediaType(mediaType)
                .setDigest(digest).setSize(d.path("size").asLong());
        d.path("annotations").fields().forEachRemaining(a -> b.putAnnotations(a.getKey(), a.getValue().asText()));
        return b.build();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
