package io.nydus.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A nydus image made the way users make one: the {@link BusyboxImage} pushed to the registry, then converted there
 * by {@code bin/nydusify convert --plain-http} into tag {@code nydus}. Keeps what the tests check against: the data
 * blobs (one per source layer; a pull must not fetch them) and the bootstrap layer.
 */
final class NydusImage {
    static final String BLOB_MEDIA_TYPE = "application/vnd.oci.image.layer.nydus.blob.v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** @param dataBlobs digests of the nydus data layers, in layer order */
    record Converted(String ref, String source, List<String> dataBlobs, String bootstrapLayer) {
    }

    private NydusImage() {
    }

    static Converted pushAndConvert(Path dir, RegistryServer registry, String repo) throws IOException,
            InterruptedException {
        return pushAndConvert(dir, registry, repo, null);
    }

    /** @param creds {@code user:password} for the registry, or null */
    static Converted pushAndConvert(Path dir, RegistryServer registry, String repo, String creds)
            throws IOException, InterruptedException {
        String source = BusyboxImage.push(dir, registry.host(), repo, creds);
        String target = registry.host() + "/" + repo + ":nydus";
        Map<String, String> env = new HashMap<>();
        if (creds != null) {
            env.put("NYDUSIFY_SOURCE_CREDS", creds);
            env.put("NYDUSIFY_TARGET_CREDS", creds);
        }
        Cmd.Result r = Cmd.exec(List.of(Launchers.nydusify().toString(), "convert", "--plain-http", "-l", "warn",
                "--work-dir", dir.resolve("nydusify-work").toString(), "--source", source, "--target", target),
                env, 300);
        if (r.exit() != 0) {
            throw new IOException("nydusify convert " + source + " exited " + r.exit() + ": " + r.out().strip());
        }
        List<String> inspect = new ArrayList<>(List.of("skopeo", "inspect", "--raw", "--tls-verify=false"));
        if (creds != null) {
            inspect.addAll(List.of("--creds", creds));
        }
        inspect.add("docker://" + target);
        JsonNode manifest = JSON.readTree(Cmd.run(inspect.toArray(String[]::new)));
        List<String> data = new ArrayList<>();
        String bootstrap = null;
        for (JsonNode l : manifest.path("layers")) {
            if (l.path("mediaType").asText().equals(BLOB_MEDIA_TYPE)) {
                data.add(l.path("digest").asText());
            } else if (l.path("annotations").has(LayerLabels.NYDUS_META_LAYER)) {
                bootstrap = l.path("digest").asText();
            }
        }
        if (data.size() != 2 || bootstrap == null) {
            throw new IOException("unexpected layers in " + target + ": " + manifest);
        }
        return new Converted(target, source, data, bootstrap);
    }
}
