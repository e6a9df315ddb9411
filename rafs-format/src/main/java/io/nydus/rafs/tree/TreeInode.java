package io.nydus.rafs.tree;

import io.nydus.rafs.ChunkInfo;
import io.nydus.rafs.FileMode;
import io.nydus.rafs.Xattrs;
import java.util.ArrayList;
import java.util.List;

/**
 * The attributes and content of one file, shared by all the hard links to it. Mutable while a tree is built.
 * Sizes of regular files are the sum of their chunks; devices carry {@code rdev} in glibc {@code dev_t} encoding.
 */
public final class TreeInode {
    public int mode;
    public long uid;
    public long gid;
    public long mtime;
    public int mtimeNsec;
    public long size;
    public long rdev;
    public byte[] symlinkTarget;
    public Xattrs xattrs = Xattrs.EMPTY;
    public List<ChunkInfo> chunks = new ArrayList<>();

    public TreeInode(int mode) {
        this.mode = mode;
    }

    public boolean isDir() {
        return FileMode.isDir(mode);
    }

    public boolean isReg() {
        return FileMode.isReg(mode);
    }

    public boolean isSymlink() {
        return FileMode.isSymlink(mode);
    }

    /** A copy with the same attributes and chunk list (chunk objects are immutable and shared). */
    public TreeInode copy() {
        TreeInode c = new TreeInode(mode);
        c.uid = uid;
        c.gid = gid;
        c.mtime = mtime;
        c.mtimeNsec = mtimeNsec;
        c.size = size;
        c.rdev = rdev;
        c.symlinkTarget = symlinkTarget;
        c.xattrs = xattrs;
        c.chunks = new ArrayList<>(chunks);
        return c;
    }
}
