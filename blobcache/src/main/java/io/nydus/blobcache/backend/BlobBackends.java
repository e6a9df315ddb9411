package io.nydus.blobcache.backend;

import com.fasterxml.jackson.databind.JsonNode;
import io.nydus.blobcache.BlobBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** Creates backends from the {@code type} and {@code config} object of a nydusd config (notes §5.2). */
public final class BlobBackends {
    private BlobBackends() {
    }

    /**
     * Creates a backend. Unknown keys are reported through {@code warnings}; invalid values throw
     * IllegalArgumentException with a one-line message naming the key.
     */
    public static BlobBackend create(String type, JsonNode config, List<String> warnings) {
        switch (type) {
            case "localfs": {
                warnUnknown(config, Set.of("dir", "alt_dirs", "blob_file", "readahead", "readahead_sec"), "localfs",
                        warnings);
                Path dir = config.hasNonNull("dir") ? Path.of(config.get("dir").asText()) : null;
                List<Path> alt = new ArrayList<>();
                if (config.has("alt_dirs")) {
                    for (JsonNode d : config.get("alt_dirs")) {
                        alt.add(Path.of(d.asText()));
                    }
                }
                Path file = config.hasNonNull("blob_file") && !config.get("blob_file").asText().isEmpty()
                        ? Path.of(config.get("blob_file").asText()) : null;
                if (dir == null && file == null && alt.isEmpty()) {
                    throw new IllegalArgumentException("localfs backend: one of 'dir', 'alt_dirs' or 'blob_file' is required");
                }
                return new LocalFsBackend(dir, alt, file);
            }
            case RegistryBackend.TYPE:
                return RegistryBackend.fromConfig(config, warnings);
            default:
                throw new IllegalArgumentException("unsupported backend type '" + type + "'");
        }
    }

    static void warnUnknown(JsonNode config, Set<String> known, String where, List<String> warnings) {
        warnUnknown(config, known, where, "", warnings);
    }

    /** Warns about the keys of {@code config} not in {@code known}, naming them {@code keyPrefix + key}. */
    static void warnUnknown(JsonNode config, Set<String> known, String where, String keyPrefix,
            List<String> warnings) {
        for (Iterator<String> it = config.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!known.contains(k)) {
                warnings.add(where + " backend: unknown key '" + keyPrefix + k + "' ignored");
            }
        }
    }
}
