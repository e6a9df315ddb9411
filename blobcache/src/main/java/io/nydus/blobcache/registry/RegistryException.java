package io.nydus.blobcache.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A request the registry answered with an error, or that could not be completed. The message is one line naming
 * the host, repository, object (blob digest, manifest reference, upload), the HTTP status and the registry's error
 * code from its JSON error body ({@code {"errors":[{"code":"BLOB_UNKNOWN","message":…}]}}).
 */
public final class RegistryException extends IOException {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int status;
    private final String errorCode;

    RegistryException(String message, int status, String errorCode, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
    }

    /** HTTP status, or 0 when no answer was received. */
    public int status() {
        return status;
    }

    /** The registry's error code (e.g. "BLOB_UNKNOWN", "UNAUTHORIZED"), or null. */
    public String errorCode() {
        return errorCode;
    }

    /** Builds the exception for an error answer: "{what}: HTTP {status} {CODE}: {registry message}". */
    static RegistryException of(String what, int status, byte[] body) {
        return of(what, status, body, null);
    }

    /** As {@link #of(String, int, byte[])}, with {@code fallbackCode} as the code when the body names none. */
    static RegistryException of(String what, int status, byte[] body, String fallbackCode) {
        String code = null;
        String detail = null;
        if (body != null && body.length > 0) {
            try {
                JsonNode errs = JSON.readTree(body).path("errors");
                if (errs.isArray() && errs.size() > 0) {
                    code = errs.get(0).path("code").asText(null);
                    detail = errs.get(0).path("message").asText(null);
                }
            } catch (IOException | RuntimeException e) {
                // not a registry error body: show its beginning instead
                String text = new String(body, 0, Math.min(body.length, 120), StandardCharsets.UTF_8).strip();
                detail = text.isEmpty() ? null : text;
            }
        }
        if (code == null) {
            code = fallbackCode != null ? fallbackCode : defaultCode(status);
        }
        StringBuilder m = new StringBuilder(what).append(": HTTP ").append(status);
        if (code != null) {
            m.append(' ').append(code);
        }
        if (detail != null && !detail.isEmpty()) {
            m.append(": ").append(oneLine(detail));
        }
        return new RegistryException(m.toString(), status, code, null);
    }

    /** Builds the exception for a request that got no usable answer. */
    static RegistryException failed(String what, String why, Throwable cause) {
        return new RegistryException(what + ": " + oneLine(why), 0, null, cause);
    }

    /** Codes the distribution spec would use, for answers without a body (HEAD). */
    private static String defaultCode(int status) {
        return switch (status) {
            case 401 -> "UNAUTHORIZED";
            case 403 -> "DENIED";
            case 429 -> "TOOMANYREQUESTS";
            default -> null;
        };
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        return s.replaceAll("[\\r\\n]+", " ").strip();
    }
}
