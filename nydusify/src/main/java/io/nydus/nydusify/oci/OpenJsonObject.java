package io.nydus.nydusify.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An OCI JSON object that keeps the fields this project does not model and writes them back, so a document read
 * and written again loses nothing (extensions, fields of newer spec versions).
 */
abstract class OpenJsonObject {
    private final Map<String, JsonNode> other = new LinkedHashMap<>();

    @JsonAnySetter
    void set(String name, JsonNode value) {
        other.put(name, value);
    }

    @JsonAnyGetter
    Map<String, JsonNode> other() {
        return other;
    }

    /** Copies the unmodelled fields of {@code from} into this object (for copies of a document). */
    void copyOtherFrom(OpenJsonObject from) {
        other.putAll(from.other);
    }
}
