package io.nydus.snapshotter;

import java.util.Locale;

/** containerd's snapshot kinds, with the numbers of the {@code Kind} enum of the snapshots API. */
public enum Kind {
    VIEW(1), ACTIVE(2), COMMITTED(3);

    private final int number;

    Kind(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** The lower-case word containerd's filters and {@code ctr snapshots ls} use. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
