package io.nydus.builder;

import java.util.Arrays;

/** A chunk digest usable as a hash-map key. */
record DigestKey(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
        return o instanceof DigestKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        // Digests are uniformly distributed: their first bytes are a good hash.
        return (bytes[0] & 0xFF) | (bytes[1] & 0xFF) << 8 | (bytes[2] & 0xFF) << 16 | (bytes[3] & 0xFF) << 24;
    }
}
