package io.nydus.snapshotter;

import java.nio.file.Path;

/**
 * What the snapshotter needs from the nydus side: a mounted RAFS image for the bootstrap layer snapshot
 * {@code meta}, and its release when that snapshot is removed.
 */
public interface RemoteFilesystem extends AutoCloseable {
    /** Mounts (or finds mounted) the image whose bootstrap layer is {@code meta}; returns the mountpoint. */
    Path mount(Snapshot meta);

    /** Unmounts the image of bootstrap layer snapshot {@code metaId}, stopping its daemon if dedicated. */
    void umount(long metaId);

    @Override
    void close();
}
