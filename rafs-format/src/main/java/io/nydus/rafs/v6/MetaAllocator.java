package io.nydus.rafs.v6;

import java.util.ArrayList;
import java.util.List;

/**
 * Places inode records in the v6 metadata area. Records are 32-byte aligned; the part of a record the kernel reads
 * as one piece (inode, xattrs and inline tail) never crosses a block boundary. Space left at the end of a block
 * by a record that did not fit is remembered and reused for later small records, as upstream does.
 */
final class MetaAllocator {
    private static final int BLOCK = 4096;
    private static final int ALIGN = ErofsInode.SLOT_SIZE;
    private static final int MAX_OPEN = 128;

    private long end;
    /** Partially used blocks before {@link #end}: {block start, bytes used}. */
    private final List<long[]> open = new ArrayList<>();

    MetaAllocator(long start) {
        this.end = start;
    }

    /**
     * Returns the offset for a record of {@code len} bytes whose first {@code head} bytes must stay in one block.
     */
    long allocate(int len, int head) {
        len = (len + ALIGN - 1) & ~(ALIGN - 1);
        if (len <= BLOCK) {
            for (int i = open.size() - 1; i >= 0; i--) {
                long[] b = open.get(i);
                if (BLOCK - b[1] >= len) {
                    long pos = b[0] + b[1];
                    b[1] += len;
                    if (BLOCK - b[1] < ALIGN) {
                        open.remove(i);
                    }
                    return pos;
                }
            }
        }
        long inBlock = end % BLOCK;
        boolean fits = len <= BLOCK ? inBlock + len <= BLOCK : inBlock + head <= BLOCK;
        if (inBlock != 0 && !fits) {
            open.add(new long[] {end - inBlock, inBlock});
            if (open.size() > MAX_OPEN) {
                open.remove(0);
            }
            end += BLOCK - inBlock;
        }
        long pos = end;
        end += len;
        return pos;
    }

    /** First byte after every record. */
    long end() {
        return end;
    }
}
