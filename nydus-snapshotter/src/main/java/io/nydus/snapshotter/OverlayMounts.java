package io.nydus.snapshotter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The mounts handed to containerd, exactly as containerd's overlayfs snapshotter builds them
 * ({@code snapshots/overlay/overlay.go}), plus upstream nydus-snapshotter's remote form whose lowest layer is a
 * nydusd mountpoint.
 */
public final class OverlayMounts {
    private final RootLayout layout;
    private final List<String> common;

    /**
     * @param indexOff  add {@code index=off}, as containerd does when the overlay module has an index feature
     * @param volatileUpper add {@code volatile} to writable overlays (snapshot.enable_overlayfs_volatile)
     */
    public OverlayMounts(RootLayout layout, boolean indexOff, boolean volatileUpper) {
        this.layout = layout;
        List<String> c = new ArrayList<>();
        if (indexOff) {
            c.add("index=off");
        }
        if (volatileUpper) {
            c.add("volatile");
        }
        this.common = List.copyOf(c);
    }

    /** Options of a writable overlay: the common ones, plus {@code volatile} when the snapshot's label asks. */
    private List<String> writable(Snapshot s) {
        if (common.contains("volatile") || !s.labels().containsKey(LayerLabels.OVERLAY_VOLATILE)) {
            return common;
        }
        List<String> o = new ArrayList<>(common);
        o.add("volatile");
        return o;
    }

    /** containerd's default: the overlay module's {@code index} parameter is on, so ask for it off. */
    public static boolean kernelHasOverlayIndex() {
        try {
            return Files.readString(Path.of("/sys/module/overlay/parameters/index")).trim().equals("Y");
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Mounts of an ordinary snapshot: no parents → a bind mount of its own {@code fs} (rw when active); a view
     * of one layer → a read-only bind of that layer; otherwise an overlay whose lowerdirs are the parents'
     * {@code fs}, nearest first, with upper and work dirs when active.
     */
    public List<Mount> of(Snapshot s) {
        if (s.parentIds().isEmpty()) {
            String ro = s.kind() == Kind.VIEW ? "ro" : "rw";
            return List.of(new Mount("bind", layout.fs(s.id()).toString(), List.of(ro, "rbind")));
        }
        List<String> options = new ArrayList<>();
        if (s.kind() == Kind.ACTIVE) {
            options.addAll(writable(s));
            options.add("workdir=" + layout.work(s.id()));
            options.add("upperdir=" + layout.fs(s.id()));
        } else if (s.parentIds().size() == 1) {
            return List.of(new Mount("bind", layout.fs(s.parentIds().get(0)).toString(), List.of("ro", "rbind")));
        } else if (common.contains("index=off")) {
            options.add("index=off");
        }
        List<String> lowers = new ArrayList<>();
        for (long id : s.parentIds()) {
            lowers.add(layout.fs(id).toString());
        }
        options.add("lowerdir=" + String.join(":", lowers));
        return List.of(new Mount("overlay", "overlay", options));
    }

    /**
     * Mounts of a container rootfs over a nydus image: an overlay whose lowerdir is the nydusd mountpoint
     * (everything below the bootstrap layer is inside the RAFS image). A view has no upper layer, so its own
     * empty {@code fs} joins as a second lowerdir, which overlayfs needs for a read-only mount.
     */
    public List<Mount> remote(Snapshot s, Path nydusMountpoint) {
        List<String> options = new ArrayList<>();
        if (s.kind() == Kind.ACTIVE) {
            options.addAll(writable(s));
            options.add("workdir=" + layout.work(s.id()));
            options.add("upperdir=" + layout.fs(s.id()));
            options.add("lowerdir=" + nydusMountpoint);
        } else {
            options.add("lowerdir=" + nydusMountpoint + ":" + layout.fs(s.id()));
        }
        return List.of(new Mount("overlay", "overlay", options));
    }
}
