package io.nydus.rafs.v5;

import io.nydus.rafs.RafsFormatException;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.SuperFlags;
import io.nydus.rafs.blob.ChunkRecord;
import java.nio.ByteBuffer;

/**
 * {@code RafsV5SuperBlock}, the first 8192 bytes of a v5 bootstrap.
 *
 * <pre>
 * off size field
 *   0    4 s_magic                        0x52414653 ("SFAR" on disk)
 *   4    4 s_fs_version                   0x500
 *   8    4 s_sb_size                      8192
 *  12    4 s_block_size                   chunk size
 *  16    8 s_flags                        RafsSuperFlags
 *  24    8 s_inodes_count                 unique inodes
 *  32    8 s_inode_table_offset           8192
 *  40    8 s_prefetch_table_offset
 *  48    8 s_blob_table_offset
 *  56    4 s_inode_table_entries          tree entries (hard-link paths counted separately)
 *  60    4 s_prefetch_table_entries
 *  64    4 s_blob_table_size              bytes, 8 aligned
 *  68    4 s_extended_blob_table_entries
 *  72    8 s_extended_blob_table_offset
 *  80 8112 reserved
 * </pre>
 */
public record RafsV5SuperBlock(int blockSize, long flags, long inodesCount, long inodeTableOffset,
        long prefetchTableOffset, long blobTableOffset, int inodeTableEntries, int prefetchTableEntries,
        int blobTableSize, int extBlobTableEntries, long extBlobTableOffset) {

    public static final int SIZE = 8192;
    public static final int VERSION = 0x500;

    public void write(ByteBuffer b) {
        b.putInt(0, RafsSuper.V5_MAGIC);
        b.putInt(4, VERSION);
        b.putInt(8, SIZE);
        b.putInt(12, blockSize);
        b.putLong(16, flags);
        b.putLong(24, inodesCount);
        b.putLong(32, inodeTableOffset);
        b.putLong(40, prefetchTableOffset);
        b.putLong(48, blobTableOffset);
        b.putInt(56, inodeTableEntries);
        b.putInt(60, prefetchTableEntries);
        b.putInt(64, blobTableSize);
        b.putInt(68, extBlobTableEntries);
        b.putLong(72, extBlobTableOffset);
    }

    public static RafsV5SuperBlock read(ByteBuffer b) {
        RafsFormatException.require(b.limit() >= SIZE, "v5 bootstrap truncated: %d bytes, superblock needs %d", b.limit(), SIZE);
        RafsFormatException.require(b.getInt(4) == VERSION, "v5 superblock: fs_version 0x%x, expected 0x500", b.getInt(4));
        RafsFormatException.require(b.getInt(8) == SIZE, "v5 superblock: sb_size %d, expected 8192", b.getInt(8));
        int bs = b.getInt(12);
        RafsFormatException.require(ChunkRecord.isValidChunkSize(bs),
                "v5 superblock: invalid chunk size 0x%x", bs);
        long flags = b.getLong(16);
        RafsFormatException.require(Long.bitCount(flags & SuperFlags.COMPRESSION_MASK) <= 1
                && Long.bitCount(flags & SuperFlags.HASH_MASK) <= 1, "v5 superblock: flags 0x%x name several algorithms", flags);
        return new RafsV5SuperBlock(bs, flags, b.getLong(24), b.getLong(32), b.getLong(40), b.getLong(48), b.getInt(56),
                b.getInt(60), b.getInt(64), b.getInt(68), b.getLong(72));
    }
}
