package io.nydus.snapshotter;

import java.util.List;

/** One mount(2) description handed to containerd: type, source and fstab-style options. */
public record Mount(String type, String source, List<String> options) {
    public Mount {
        options = List.copyOf(options);
    }

    @Override
    public String toString() {
        return type + " " + source + " " + String.join(",", options);
    }
}
