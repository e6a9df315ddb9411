package io.nydus.nydusify;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What {@code convert} did, as {@code --output-json} writes it.
 *
 * @param uploadedBytes bytes sent to the target (blobs it already had, or mounted, are not counted)
 */
public record ConvertResult(
        @JsonProperty("source") String source,
        @JsonProperty("target") String target,
        @JsonProperty("target_digest") String targetDigest,
        @JsonProperty("target_media_type") String targetMediaType,
        @JsonProperty("images") List<Image> images,
        @JsonProperty("uploaded_bytes") long uploadedBytes,
        @JsonProperty("uploaded_blobs") long uploadedBlobs,
        @JsonProperty("existing_blobs") long existingBlobs,
        @JsonProperty("mounted_blobs") long mountedBlobs,
        @JsonProperty("source_bytes") long sourceBytes,
        @JsonProperty("uncompressed_bytes") long uncompressedBytes,
        @JsonProperty("seconds") double seconds) {

    /** One converted manifest. */
    public record Image(
            @JsonProperty("platform") String platform,
            @JsonProperty("source_digest") String sourceDigest,
            @JsonProperty("digest") String digest,
            @JsonProperty("layers") List<Layer> layers,
            @JsonProperty("bootstrap_digest") String bootstrapDigest,
            @JsonProperty("bootstrap_size") long bootstrapSize,
            @JsonProperty("chunk_dict_blobs") List<String> chunkDictBlobs) {
    }

    /** One source layer and the nydus blob it became. */
    public record Layer(
            @JsonProperty("source_digest") String sourceDigest,
            @JsonProperty("source_size") long sourceSize,
            @JsonProperty("uncompressed_size") long uncompressedSize,
            @JsonProperty("blob_digest") String blobDigest,
            @JsonProperty("blob_size") long blobSize,
            @JsonProperty("blob_chunks") long chunks,
            @JsonProperty("deduplicated_chunks") long dedupedChunks,
            @JsonProperty("seconds") double seconds) {
    }
}
