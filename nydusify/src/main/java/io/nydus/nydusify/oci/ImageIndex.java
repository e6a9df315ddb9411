package io.nydus.nydusify.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An OCI image index or Docker manifest list (same shape); unknown fields are kept. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations"})
public final class ImageIndex extends OpenJsonObject {
    public int schemaVersion = 2;
    public String mediaType;
    public String artifactType;
    public List<Descriptor> manifests = new ArrayList<>();
    public Descriptor subject;
    public Map<String, String> annotations;

    public static ImageIndex parse(byte[] bytes, String what) throws IOException {
        ImageIndex i = Json.parse(bytes, ImageIndex.class, what);
        if (i.manifests == null) {
            i.manifests = new ArrayList<>();
        }
        return i;
    }

    public byte[] bytes() {
        return Json.bytes(this);
    }
}
