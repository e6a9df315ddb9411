package io.nydus.rafs;

import java.util.Arrays;

/** Turns the stored bytes of a chunk (as read from its blob) into its verified uncompressed bytes. */
public final class StoredChunk {
    private StoredChunk() {
    }

    /**
     * Decompresses {@code stored} (the chunk's compressed extent) and, when {@code verifyWith} is not null and the
     * chunk's digest is known, checks the digest.
     *
     * @throws RafsFormatException naming the blob and offset when the bytes do not decode or verify
     */
    public static byte[] decode(ChunkInfo chunk, byte[] stored, Compressor compressor, Digester verifyWith,
            String blobId) {
        byte[] data;
        try {
            data = chunk.isCompressed() ? compressor.decompress(stored, chunk.uncompressedSize()) : stored;
        } catch (RafsFormatException e) {
            throw new RafsFormatException(where(chunk, blobId) + e.getMessage(), e);
        }
        if (data.length != chunk.uncompressedSize()) {
            throw new RafsFormatException(where(chunk, blobId) + data.length + " bytes, expected "
                    + chunk.uncompressedSize());
        }
        if (verifyWith != null && chunk.digest() != null && !Arrays.equals(chunk.digest(), verifyWith.digest(data))) {
            throw new RafsFormatException(where(chunk, blobId) + "digest mismatch (expected " + chunk.digestHex() + ")");
        }
        return data;
    }

    private static String where(ChunkInfo c, String blobId) {
        return "blob " + blobId + " chunk " + c.index() + " at offset " + c.compressedOffset() + ": ";
    }
}
