package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * An image laid out as nydusify lays out nydus images (notes §7.2–7.3) for {@link StandInNydusd}: data layers of
 * media type {@code application/vnd.oci.image.layer.nydus.blob.v1} annotated {@code containerd.io/snapshot/
 * nydus-blob: "true"} (DiffID = own digest), then a gzip bootstrap layer holding {@code image/image.boot},
 * annotated {@code containerd.io/snapshot/nydus-bootstrap: "true"}. The stand-in's "bootstrap" is a tar of the
 * image's files; the data blobs are opaque bytes a correct snapshotter never downloads. Pushed as an OCI index
 * with one linux/amd64 manifest, as nydusify does for a multi-platform source.
 */
final class StandInNydusImage {
    static final String BLOB_MEDIA_TYPE = "application/vnd.oci.image.layer.nydus.blob.v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What was pushed: the reference and the digests of the data blobs (never to be fetched). */
    record Pushed(String ref, List<String> dataBlobs, String bootstrapLayer) {
    }

    private StandInNydusImage() {
    }

    /** Pushes an image whose files are {@code rootfs} to {@code host/repo:tag}. */
    static Pushed push(Path work, Path rootfs, RegistryUpload registry, String host, String repo, String tag)
            throws IOException, InterruptedException {
        Files.createDirectories(work);
        Path stage = work.resolve("bootstrap-layer");
        Files.createDirectories(stage.resolve("image"));
        Path boot = stage.resolve("image/image.boot");
        Cmd.run("tar", "-C", rootfs.toString(), "-cf", boot.toString(), ".");
        Cmd.run("chmod", "0444", boot.toString());
        Cmd.run("chmod", "0755", stage.resolve("image").toString());
        Path layerTar = work.resolve("bootstrap-layer.tar");
        Cmd.run("tar", "-C", stage.toString(), "--owner=0", "--group=0", "-cf", layerTar.toString(), "image");
        byte[] tar = Files.readAllBytes(layerTar);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(tar);
        }

        List<Map<String, Object>> layers = new ArrayList<>();
        List<String> diffIds = new ArrayList<>();
        List<String> blobs = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            byte[] blob = ("stand-in nydus data blob " + i + " of " + repo + "\n").repeat(100)
                    .getBytes(StandardCharsets.UTF_8);
            String d = registry.putBlob(repo, blob);
            blobs.add(d);
            diffIds.add(d);
            layers.add(descriptor(BLOB_MEDIA_TYPE, d, blob.length,
                    Map.of("containerd.io/snapshot/nydus-blob", "true")));
        }
        String bootDigest = registry.putBlob(repo, gz.toByteArray());
        diffIds.add(RegistryUpload.sha256(tar));
        layers.add(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", bootDigest, gz.size(),
                Map.of("containerd.io/snapshot/nydus-bootstrap", "true", "containerd.io/snapshot/nydus-fs-version", "6")));

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("config", Map.of("Cmd", List.of("/bin/sh")));
        config.put("rootfs", Map.of("type", "layers", "diff_ids", diffIds));
        config.put("history", List.of(Map.of("created_by", "Nydus Converter", "comment", "Nydus Bootstrap Layer")));
        byte[] configBytes = JSON.writeValueAsBytes(config);
        String configDigest = registry.putBlob(repo, configBytes);

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", descriptor("application/vnd.oci.image.config.v1+json", configDigest, configBytes.length,
                Map.of()));
        manifest.put("layers", layers);
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        String manifestDigest = registry.putManifest(repo, RegistryUpload.sha256(manifestBytes),
                "application/vnd.oci.image.manifest.v1+json", manifestBytes);

        Map<String, Object> entry = descriptor("application/vnd.oci.image.manifest.v1+json", manifestDigest,
                manifestBytes.length, Map.of());
        entry.put("platform", Map.of("architecture", "amd64", "os", "linux"));
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(entry));
        registry.putManifest(repo, tag, "application/vnd.oci.image.index.v1+json", JSON.writeValueAsBytes(index));
        return new Pushed(host + "/" + repo + ":" + tag, blobs, bootDigest);
    }

    private static Map<String, Object> descriptor(String mediaType, String digest, long size,
            Map<String, String> annotations) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", mediaType);
        d.put("digest", digest);
        d.put("size", size);
        if (!annotations.isEmpty()) {
            d.put("annotations", annotations);
        }
        return d;
    }
}
