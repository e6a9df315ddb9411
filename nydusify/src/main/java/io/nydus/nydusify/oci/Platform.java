package io.nydus.nydusify.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The {@code platform} of an index entry: os/arch[/variant], with unknown fields kept. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"architecture", "os", "os.version", "os.features", "variant"})
public final class Platform extends OpenJsonObject {
    public String architecture;
    public String os;
    @JsonProperty("os.version")
    public String osVersion;
    @JsonProperty("os.features")
    public List<String> osFeatures;
    public String variant;

    public Platform() {
    }

    public Platform(String os, String architecture, String variant) {
        this.os = os;
        this.architecture = architecture;
        this.variant = variant;
    }

    /** Parses "os/arch[/variant]" ({@code --platform}). */
    public static Platform parse(String s) {
        String[] p = s.trim().split("/");
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException("platform '" + s + "' is not os/arch[/variant]");
        }
        return new Platform(p[0], p[1], p.length == 3 ? p[2] : null);
    }

    /** Whether an image for {@code other} runs here: same os and arch, and same variant when this one names one. */
    public boolean matches(Platform other) {
        if (other == null) {
            return false;
        }
        if (!Objects.equals(os, other.os) || !Objects.equals(architecture, other.architecture)) {
            return false;
        }
        return variant == null || variant.isEmpty() || variant.equals(other.variant)
                || (other.variant == null && "arm64".equals(architecture) && "v8".equals(variant));
    }

    public Platform copy() {
        Platform p = new Platform(os, architecture, variant);
        p.osVersion = osVersion;
        p.osFeatures = osFeatures == null ? null : new ArrayList<>(osFeatures);
        p.copyOtherFrom(this);
        return p;
    }


    @Override
    public String toString() {
        return os + "/" + architecture + (variant == null || variant.isEmpty() ? "" : "/" + variant);
    }
}
