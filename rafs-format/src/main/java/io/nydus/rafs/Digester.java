package io.nydus.rafs;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.bouncycastle.crypto.digests.Blake3Digest;

/**
 * Chunk and inode digest algorithms (notes §1.11, §3.4). Both produce 32 bytes. The enum value is what blob tables
 * store; the superblock carries one of the HASH flag bits, none meaning BLAKE3.
 */
public enum Digester {
    BLAKE3(0, "blake3", SuperFlags.HASH_BLAKE3),
    SHA256(1, "sha256", SuperFlags.HASH_SHA256);

    public static final int DIGEST_SIZE = 32;

    private final int id;
    private final String cliName;
    private final long superFlag;

    Digester(int id, String cliName, long superFlag) {
        this.id = id;
        this.cliName = cliName;
        this.superFlag = superFlag;
    }

    public int id() {
        return id;
    }

    public String cliName() {
        return cliName;
    }

    public long superFlag() {
        return superFlag;
    }

    public static Digester fromId(int id) {
        for (Digester d : values()) {
            if (d.id == id) {
                return d;
            }
        }
        throw new RafsFormatException("unknown digest algorithm " + id);
    }

    public static Digester fromCliName(String name) {
        for (Digester d : values()) {
            if (d.cliName.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown digester '" + name + "' (expected blake3 or sha256)");
    }

    public static Digester fromSuperFlags(long flags) {
        return (flags & SuperFlags.HASH_SHA256) != 0 ? SHA256 : BLAKE3;
    }

    /** A new incremental hasher; not thread-safe. */
    public Hasher newHasher() {
        return this == SHA256 ? new Sha256Hasher() : new Blake3Hasher();
    }

    public byte[] digest(byte[] data, int off, int len) {
        Hasher h = newHasher();
        h.update(data, off, len);
        return h.finish();
    }

    public byte[] digest(byte[] data) {
        return digest(data, 0, data.length);
    }

    /** An incremental 32-byte hash. */
    public interface Hasher {
        void update(byte[] data, int off, int len);

        default void update(byte[] data) {
            update(data, 0, data.length);
        }

        /** Returns the digest; the hasher must not be used afterwards. */
        byte[] finish();
    }

    private static final class Sha256Hasher implements Hasher {
        private final MessageDigest md = sha256();

        @Override
        public void update(byte[] data, int off, int len) {
            md.update(data, off, len);
        }

        @Override
        public byte[] finish() {
            return md.digest();
        }
    }

    private static final class Blake3Hasher implements Hasher {
        private final Blake3Digest d = new Blake3Digest(256);

        @Override
        public void update(byte[] data, int off, int len) {
            d.update(data, off, len);
        }

        @Override
        public byte[] finish() {
            byte[] out = new byte[DIGEST_SIZE];
            d.doFinal(out, 0);
            return out;
        }
    }

    /** A new JDK SHA-256 digest (used for blob ids, TOC digests and OCI digests). */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("the JDK always has SHA-256", e);
        }
    }
}
