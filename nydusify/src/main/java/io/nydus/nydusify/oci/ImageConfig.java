package io.nydus.nydusify.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An image config ({@code application/vnd.oci.image.config.v1+json} or Docker's): held as a JSON tree so that every
 * field, known or not, survives a rewrite in its original order; only {@code rootfs} and {@code history} change.
 */
public final class ImageConfig {
    private final ObjectNode root;

    private ImageConfig(ObjectNode root) {
        this.root = root;
    }

    public static ImageConfig parse(byte[] bytes, String what) throws IOException {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new IOException(what + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (n == null || !n.isObject()) {
            throw new IOException(what + " is not a JSON object");
        }
        return new ImageConfig((ObjectNode) n);
    }

    public ImageConfig copy() {
        return new ImageConfig(root.deepCopy());
    }

    /** The platform the config declares (os, architecture, variant). */
    public Platform platform() {
        Platform p = new Platform(text("os"), text("architecture"), root.hasNonNull("variant") ? text("variant") : null);
        if (root.hasNonNull("os.version")) {
            p.osVersion = text("os.version");
        }
        return p;
    }

    /** The execution parameters ({@code config}), what a converted image must keep unchanged; null if absent. */
    public JsonNode execConfig() {
        return root.get("config");
    }

    public List<String> diffIds() {
        List<String> out = new ArrayList<>();
        JsonNode ids = root.path("rootfs").path("diff_ids");
        for (JsonNode id : ids) {
            out.add(id.asText());
        }
        return out;
    }

    public void setDiffIds(List<String> ids) {
        ObjectNode rootfs = root.has("rootfs") && root.get("rootfs").isObject() ? (ObjectNode) root.get("rootfs")
                : root.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode a = rootfs.putArray("diff_ids");
        ids.forEach(a::add);
    }

    /** The history entries. */
    public List<JsonNode> history() {
        List<JsonNode> out = new ArrayList<>();
        root.path("history").forEach(out::add);
        return out;
    }

    public void appendHistory(String createdBy, String comment) {
        ArrayNode h = root.has("history") && root.get("history").isArray() ? (ArrayNode) root.get("history")
                : root.putArray("history");
        ObjectNode e = h.addObject();
        e.put("created_by", createdBy);
        e.put("comment", comment);
    }

    public byte[] bytes() {
        return Json.bytes(root);
    }

    private String text(String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }
}
