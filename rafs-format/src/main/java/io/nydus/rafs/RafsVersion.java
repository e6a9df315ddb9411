package io.nydus.rafs;

/** Bootstrap format version. */
public enum RafsVersion {
    V5(5), V6(6);

    private final int number;

    RafsVersion(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    public static RafsVersion of(int n) {
        return switch (n) {
            case 5 -> V5;
            case 6 -> V6;
            default -> throw new IllegalArgumentException("unsupported fs version " + n + " (expected 5 or 6)");
        };
    }
}
