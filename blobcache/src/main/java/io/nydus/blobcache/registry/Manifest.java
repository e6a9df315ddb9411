package io.nydus.blobcache.registry;

/**
 * A manifest (or index) as stored in a registry.
 *
 * @param mediaType the Content-Type the registry gave (for example {@link RegistryClient#OCI_MANIFEST})
 * @param digest    "sha256:…" of {@code bytes}
 * @param bytes     the exact bytes; re-serializing them would change the digest
 */
public record Manifest(String mediaType, String digest, byte[] bytes) {
    public Manifest {
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }
}
