package io.nydus.daemon;

/**
 * What a name or a FUSE node id names inside a {@link Vfs}: an inode of a mounted image, or a pseudo directory (the root of a
 * daemon that serves several images, and the directories above their mountpoints). Immutable.
 *
 * @param image      the image, or null for a pseudo directory
 * @param ino        the image's inode number, or the pseudo directory's
 * @param pseudo     the pseudo directory, or null
 */
record VfsNode(RafsImage image, long ino, Vfs.PseudoDir pseudo) {

    boolean isPseudo() {
        return pseudo != null;
    }

    /** {@code st_ino} as the mount reports it. */
    long reportedIno() {
        return pseudo != null ? pseudo.ino() : image.reportedIno(ino);
    }
}
