package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nydus.snapshotter.api.types.Mount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pulls an image the way containerd's CRI plugin and nerdctl do for remote snapshotters (containerd's
 * {@code unpacker.go} with {@code snapshotters.AppendInfoHandlerWrapper}): metadata first, then per layer a
 * Prepare through containerd's snapshots service carrying {@code containerd.io/snapshot.ref} = chain id, the
 * layer's {@code containerd.io/snapshot/*} annotations and the {@code cri.*} labels (image ref, layer and manifest
 * digests); AlreadyExists means the snapshotter has the layer, anything else is unpacked and committed; finally the
 * image config gets the {@code gc.ref.snapshot} label so containerd counts the image as unpacked.
 *
 * <p>Needed because {@code ctr image pull} of containerd 1.6 passes no labels at all and applies every layer
 * through the diff service, which rejects nydus blob layers ("no processor for media-type").
 */
final class RemoteSnapshotPull {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

    /** Per layer: true when the snapshotter answered AlreadyExists (nothing was downloaded for it). */
    record Result(List<Boolean> remote, String topChainId) {
    }

    private RemoteSnapshotPull() {
    }

    static Result pull(ContainerdServer containerd, RegistryUpload registry, String ref, String snapshotter)
            throws IOException, InterruptedException {
        return pull(containerd, registry, ref, snapshotter, null);
    }

    /** @param userPass {@code user:password} for the registry, or null */
    static Result pull(ContainerdServer containerd, RegistryUpload registry, String ref, String snapshotter,
            String userPass) throws IOException, InterruptedException {
        String repo = ref.substring(ref.indexOf('/') + 1, ref.lastIndexOf(':'));
        String tag = ref.substring(ref.lastIndexOf(':') + 1);
        if (userPass == null) {
            containerd.ctr("content", "fetch", "--metadata-only", "--plain-http", ref);
        } else {
            containerd.ctr("content", "fetch", "--metadata-only", "--plain-http", "--user", userPass, ref);
        }

        String accept = String.join(",", INDEX, MANIFEST, DOCKER_MANIFEST, DOCKER_LIST);
        byte[] top = registry.get(repo, "manifests", tag, accept);
        JsonNode m = JSON.readTree(top);
        String manifestDigest = RegistryUpload.sha256(top);
        if (m.has("manifests")) {
            JsonNode chosen = null;
            for (JsonNode e : m.path("manifests")) {
                if (e.path("platform").path("os").asText().equals("linux")
                        && e.path("platform").path("architecture").asText().equals("amd64")) {
                    chosen = e;
                }
            }
            if (chosen == null) {
                throw new IOException(ref + " has no linux/amd64 manifest");
            }
            manifestDigest = chosen.path("digest").asText();
            m = JSON.readTree(registry.get(repo, "manifests", manifestDigest, accept));
        }
        String configDigest = m.path("config").path("digest").asText();
        JsonNode config = JSON.readTree(registry.get(repo, "blobs", configDigest, "*/*"));
        List<JsonNode> layers = new ArrayList<>();
        m.path("layers").forEach(layers::add);
        List<String> diffIds = new ArrayList<>();
        config.path("rootfs").path("diff_ids").forEach(d -> diffIds.add(d.asText()));
        if (diffIds.size() != layers.size()) {
            throw new IOException(ref + ": " + layers.size() + " layers but " + diffIds.size() + " diff ids");
        }
        StringBuilder allLayers = new StringBuilder();
        for (JsonNode l : layers) {
            allLayers.append(allLayers.length() == 0 ? "" : ",").append(l.path("digest").asText());
        }

        String lease = containerd.ctr("leases", "create").trim();
        List<Boolean> remote = new ArrayList<>();
        String parent = "";
        String chain = null;
        try (SnapshotsClient sn = SnapshotsClient.containerd(containerd.socket(), snapshotter,
                ContainerdServer.NAMESPACE, lease)) {
            for (int i = 0; i < layers.size(); i++) {
                JsonNode layer = layers.get(i);
                chain = chain == null ? diffIds.get(i) : chainId(chain, diffIds.get(i));
                Map<String, String> labels = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = layer.path("annotations").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> a = it.next();
                    if (a.getKey().startsWith("containerd.io/snapshot/")) {
                        labels.put(a.getKey(), a.getValue().asText());
                    }
                }
                labels.put("containerd.io/snapshot.ref", chain);
                labels.put(LayerLabels.CRI_IMAGE_REF, ref);
                labels.put(LayerLabels.CRI_LAYER_DIGEST, layer.path("digest").asText());
                labels.put(LayerLabels.CRI_MANIFEST_DIGEST, manifestDigest);
                labels.put("containerd.io/snapshot/cri.image-layers", allLayers.toString());
                String key = "extract-" + System.nanoTime() + " " + chain;
                List<Mount> mounts;
                try {
                    mounts = sn.prepare(key, parent, labels);
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
                        throw e;
                    }
                    remote.add(true);
                    parent = chain;
                    continue;
                }
                remote.add(false);
                Path blob = Files.createTempFile("layer-", ".tgz");
                try {
                    Files.write(blob, registry.get(repo, "blobs", layer.path("digest").asText(), "*/*"));
                    Path target = writableDir(mounts);
                    String list = Cmd.run("tar", "-tzf", blob.toString());
                    if (list.contains(".wh.")) {
                        throw new IOException("this pull helper does not apply whiteouts (layer " + i + ")");
                    }
                    Cmd.run("tar", "-xzf", blob.toString(), "-C", target.toString());
                } catch (IOException e) {
                    sn.remove(key);
                    throw e;
                } finally {
                    Files.deleteIfExists(blob);
                }
                sn.commit(chain, key, labels);
                parent = chain;
            }
        }
        containerd.ctr("content", "label", configDigest, "containerd.io/gc.ref.snapshot." + snapshotter + "=" + chain);
        containerd.ctr("leases", "delete", lease);
        return new Result(remote, chain);
    }

    /** The directory a layer is unpacked into: a bind mount's source, or an overlay's upperdir. */
    private static Path writableDir(List<Mount> mounts) throws IOException {
        Mount m = mounts.get(0);
        if (m.getType().equals("bind")) {
            return Path.of(m.getSource());
        }
        for (String o : m.getOptionsList()) {
            if (o.startsWith("upperdir=")) {
                return Path.of(o.substring("upperdir=".length()));
            }
        }
        throw new IOException("no writable directory in " + mounts);
    }

    static String chainId(String parent, String diffId) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((parent + " " + diffId)
                    .getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
