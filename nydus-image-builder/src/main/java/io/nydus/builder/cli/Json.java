package io.nydus.builder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code -J/--output-json} document upstream tools and nydusify read. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    static Map<String, Object> output(Path bootstrap, List<String> blobs, int fsVersion, String compressor) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", Version.VERSION);
        m.put("bootstrap", bootstrap == null ? null : bootstrap.toString());
        m.put("blobs", blobs);
        m.put("trace", Map.of());
        m.put("fs_version", Integer.toString(fsVersion));
        m.put("compressor", compressor);
        return m;
    }

    static void write(Path path, Object value) throws IOException {
        Path tmp = path.resolveSibling("." + path.getFileName() + ".tmp");
        Files.write(tmp, MAPPER.writeValueAsBytes(value));
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static String string(Object value) throws IOException {
        return MAPPER.writeValueAsString(value);
    }
}
