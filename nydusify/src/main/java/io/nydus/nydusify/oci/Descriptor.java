package io.nydus.nydusify.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An OCI content descriptor; fields this project does not know are kept as read. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"})
public final class Descriptor extends OpenJsonObject {
    public String mediaType;
    public String digest;
    public long size;
    public List<String> urls;
    public Map<String, String> annotations;
    public Platform platform;
    public String artifactType;

    public Descriptor() {
    }

    public Descriptor(String mediaType, String digest, long size) {
        this.mediaType = mediaType;
        this.digest = digest;
        this.size = size;
    }

    public String annotation(String key) {
        return annotations == null ? null : annotations.get(key);
    }

    public Descriptor annotate(String key, String value) {
        if (annotations == null) {
            annotations = new LinkedHashMap<>();
        }
        annotations.put(key, value);
        return this;
    }

    /** A deep enough copy to change annotations and platform without touching this one. */
    public Descriptor copy() {
        Descriptor d = new Descriptor(mediaType, digest, size);
        d.urls = urls;
        d.annotations = annotations == null ? null : new LinkedHashMap<>(annotations);
        d.platform = platform == null ? null : platform.copy();
        d.artifactType = artifactType;
        d.copyOtherFrom(this);
        return d;
    }

    /** The hex part of the digest ("sha256:abc…" → "abc…"). */
    public String hex() {
        return Digests.hex(digest);
    }


    @Override
    public String toString() {
        return mediaType + " " + digest + " (" + size + " bytes)";
    }
}
