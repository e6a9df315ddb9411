package io.nydus.rafs.v6;

import io.nydus.rafs.RafsFormatException;
import java.nio.ByteBuffer;

/**
 * The EROFS superblock at byte 1024 of a v6 bootstrap (128 bytes).
 *
 * <pre>
 * off size field                nydus value
 *   0    4 s_magic              0xE0F5E1E2
 *   4    4 s_checksum           0
 *   8    4 s_feature_compat     0x4000_0000 (RAFS_V6)
 *  12    1 s_blkszbits          12 (9 in tarfs mode)
 *  13    1 s_extslots           0
 *  14    2 s_root_nid
 *  16    8 s_inos               inode entries
 *  24    8 s_build_time         0
 *  32    4 s_build_time_nsec    0
 *  36    4 s_blocks             sum of device blocks
 *  40    4 s_meta_blkaddr       start of the inode area, in blocks
 *  44    4 s_xattr_blkaddr      0 (no shared xattrs)
 *  48   16 s_uuid               0
 *  64   16 s_volume_name        0
 *  80    4 s_feature_incompat   0xC = CHUNKED_FILE | DEVICE_TABLE
 *  84    2 s_u                  0
 *  86    2 s_extra_devices      number of blobs
 *  88    2 s_devt_slotoff       device table offset / 128 (11)
 *  90   38 reserved
 * </pre>
 */
public record ErofsSuperBlock(int blkszbits, int rootNid, long inos, long blocks, long metaBlkaddr,
        int extraDevices, int devtSlotoff) {

    public static final int OFFSET = 1024;
    public static final int SIZE = 128;
    public static final int MAGIC = 0xE0F5E1E2;
    public static final int FEATURE_COMPAT_RAFS_V6 = 0x4000_0000;
    public static final int FEATURE_INCOMPAT_CHUNKED_FILE = 0x4;
    public static final int FEATURE_INCOMPAT_DEVICE_TABLE = 0x8;
    public static final int FEATURE_INCOMPAT = FEATURE_INCOMPAT_CHUNKED_FILE | FEATURE_INCOMPAT_DEVICE_TABLE;

    public void write(ByteBuffer b) {
        b.putInt(OFFSET, MAGIC);
        b.putInt(OFFSET + 8, FEATURE_COMPAT_RAFS_V6);
        b.put(OFFSET + 12, (byte) blkszbits);
        b.putShort(OFFSET + 14, (short) rootNid);
        b.putLong(OFFSET + 16, inos);
        b.putInt(OFFSET + 36, (int) blocks);
        b.putInt(OFFSET + 40, (int) metaBlkaddr);
        b.putInt(OFFSET + 80, FEATURE_INCOMPAT);
        b.putShort(OFFSET + 86, (short) extraDevices);
        b.putShort(OFFSET + 88, (short) devtSlotoff);
    }

    /** Whether the buffer carries the EROFS magic at byte 1024. */
    public static boolean matches(ByteBuffer b) {
        return b.limit() >= OFFSET + SIZE && b.getInt(OFFSET) == MAGIC;
    }

    public static ErofsSuperBlock read(ByteBuffer b) {
        RafsFormatException.require(matches(b), "not a RAFS v6 bootstrap: no EROFS magic at offset 1024");
        RafsFormatException.require(b.getInt(OFFSET + 4) == 0, "EROFS superblock: checksum must be 0");
        RafsFormatException.require((b.getInt(OFFSET + 8) & FEATURE_COMPAT_RAFS_V6) != 0,
                "EROFS superblock: feature_compat 0x%x lacks RAFS_V6", b.getInt(OFFSET + 8));
        int blkszbits = b.get(OFFSET + 12) & 0xFF;
        RafsFormatException.require(blkszbits == 12 || blkszbits == 9, "EROFS superblock: block size bits %d",
                blkszbits);
        RafsFormatException.require(b.get(OFFSET + 13) == 0, "EROFS superblock: extslots must be 0");
        RafsFormatException.require(b.getInt(OFFSET + 44) == 0, "EROFS superblock: shared xattrs are not supported");
        int incompat = b.getInt(OFFSET + 80);
        RafsFormatException.require(incompat == FEATURE_INCOMPAT,
                "EROFS superblock: feature_incompat 0x%x, expected 0x%x", incompat, FEATURE_INCOMPAT);
        return new ErofsSuperBlock(blkszbits, b.getShort(OFFSET + 14) & 0xFFFF, b.getLong(OFFSET + 16),
                b.getInt(OFFSET + 36) & 0xFFFF_FFFFL, b.getInt(OFFSET + 40) & 0xFFFF_FFFFL,
                b.getShort(OFFSET + 86) & 0xFFFF, b.getShort(OFFSET + 88) & 0xFFFF);
    }
}
