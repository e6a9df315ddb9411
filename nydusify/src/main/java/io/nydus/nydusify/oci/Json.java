package io.nydus.nydusify.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;

/** The JSON mapper of image documents: compact output, unknown fields kept by the models themselves. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

    private Json() {
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Parses a document; {@code what} names it in the one-line error ("manifest sha256:… of registry …").
     */
    public static <T> T parse(byte[] bytes, Class<T> type, String what) throws IOException {
        try {
            T v = MAPPER.readValue(bytes, type);
            if (v == null) {
                throw new IOException(what + " is empty");
            }
            return v;
        } catch (JsonProcessingException e) {
            throw new IOException(what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
