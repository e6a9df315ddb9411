package io.nydus.nydusify.oci;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An OCI image manifest or Docker schema 2 manifest (same shape); unknown fields are kept. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations"})
public final class ImageManifest extends OpenJsonObject {
    public int schemaVersion = 2;
    public String mediaType;
    public String artifactType;
    public Descriptor config;
    public List<Descriptor> layers = new ArrayList<>();
    public Descriptor subject;
    public Map<String, String> annotations;

    public static ImageManifest parse(byte[] bytes, String what) throws IOException {
        ImageManifest m = Json.parse(bytes, ImageManifest.class, what);
        if (m.config == null || m.config.digest == null) {
            throw new IOException(what + " has no config descriptor");
        }
        if (m.layers == null) {
            m.layers = new ArrayList<>();
        }
        return m;
    }

    /** Whether this is a nydus image: its last layer is the bootstrap layer. */
    @JsonIgnore
    public boolean isNydus() {
        return !layers.isEmpty()
                && layers.get(layers.size() - 1).annotation(MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP) != null;
    }

    @JsonIgnore
    public Descriptor bootstrapLayer() {
        return isNydus() ? layers.get(layers.size() - 1) : null;
    }

    public byte[] bytes() {
        return Json.bytes(this);
    }
}
