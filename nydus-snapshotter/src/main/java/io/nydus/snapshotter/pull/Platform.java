package io.nydus.snapshotter.pull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * An OCI platform ({@code os/architecture[/variant]}) as {@code ctr --platform} takes it, and the matching of an
 * index entry's (or an image config's) platform against it. A requested platform without a variant matches any
 * variant; arm64's variant {@code v8} is its default and may be left out on either side.
 *
 * @param variant empty when not given
 */
public record Platform(String os, String architecture, String variant) {

    /** Parses {@code os/arch[/variant]}; IllegalArgumentException otherwise. */
    public static Platform parse(String s) {
        String[] p = s.trim().toLowerCase(Locale.ROOT).split("/", -1);
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty() || (p.length == 3 && p[2].isEmpty())) {
            throw new IllegalArgumentException("invalid platform \"" + s + "\" (os/arch[/variant], e.g. linux/amd64)");
        }
        return new Platform(p[0], normalizeArch(p[1]), p.length == 3 ? p[2] : "");
    }

    /** The platform this JVM runs on, with the OCI architecture names. */
    public static Platform host() {
        return new Platform("linux", normalizeArch(System.getProperty("os.arch")), "");
    }

    private static String normalizeArch(String arch) {
        return switch (arch) {
            case "x86_64", "x86-64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> arch;
        };
    }

    /** Whether a JSON platform object ({@code os}, {@code architecture}, {@code variant}) is this platform. */
    public boolean matches(JsonNode platform) {
        String os = platform.path("os").asText();
        String arch = normalizeArch(platform.path("architecture").asText());
        String v = platform.path("variant").asText();
        if (!this.os.equals(os) || !architecture.equals(arch)) {
            return false;
        }
        return variant.isEmpty() || variant.equals(v) || (architecture.equals("arm64") && variant.equals("v8")
                && v.isEmpty());
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
