package io.nydus.rafs.blob;

import io.nydus.rafs.Compressor;
import io.nydus.rafs.Digester;
import io.nydus.rafs.RafsFormatException;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The trailing sections of a data blob (notes §2.13): found through the TOC when the blob has one, otherwise by
 * walking the trailing tar headers backwards from the end.
 */
public final class BlobSections {
    /** Upper bound for a TOC; real ones hold at most a handful of 128-byte entries. */
    private static final int MAX_TOC = 64 * TocEntry.SIZE;

    /** One section: where its (possibly compressed) payload lies and how to decode it. */
    public record Section(String name, long offset, long compressedSize, long uncompressedSize,
            Compressor compressor, byte[] digest) {
    }

    private final List<Section> sections;
    private final byte[] rawToc;

    private BlobSections(List<Section> sections, byte[] rawToc) {
        this.sections = sections;
        this.rawToc = rawToc;
    }

    public List<Section> sections() {
        return Collections.unmodifiableList(sections);
    }

    /** The TOC entries followed by their tar header, as stored (what the blob table's TOC digest covers). */
    public byte[] rawToc() {
        return rawToc == null ? null : rawToc.clone();
    }

    public boolean hasToc() {
        return rawToc != null;
    }

    public Section find(String name) {
        for (Section s : sections) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Reads a blob's sections; a blob with neither TOC nor tar headers (plain v5 data) has none. */
    public static BlobSections read(BlobReader blob) throws IOException {
        long size = blob.size();
        if (size < TarHeader.SIZE) {
            return new BlobSections(List.of(), null);
        }
        byte[] last = blob.read(size - TarHeader.SIZE, TarHeader.SIZE);
        TarHeader.Entry e = TarHeader.decode(last, 0);
        if (e == null) {
            return new BlobSections(List.of(), null);
        }
        if (e.name().equals(TarHeader.BLOB_TOC)) {
            return readToc(blob, size, e, last);
        }
        return scanTarHeaders(blob, size);
    }

    private static BlobSections readToc(BlobReader blob, long size, TarHeader.Entry header, byte[] headerBytes)
            throws IOException {
        long n = header.size();
        RafsFormatException.require(n % TocEntry.SIZE == 0 && n <= MAX_TOC && n <= size - TarHeader.SIZE,
                "blob TOC: bad size %d", n);
        byte[] entries = blob.read(size - TarHeader.SIZE - n, (int) n);
        List<Section> list = new ArrayList<>();
        for (int off = 0; off < n; off += TocEntry.SIZE) {
            TocEntry t = TocEntry.read(entries, off);
            if (t.name().equals(TarHeader.IMAGE_BLOB)) {
                // The chunk data always starts at 0; nydus 2.2 recorded its length here instead [quirk].
                t = new TocEntry(t.flags(), t.name(), t.digest(), 0, t.compressedSize(), t.uncompressedSize());
            }
            RafsFormatException.require(t.compressedOffset() + t.compressedSize() <= size,
                    "blob TOC entry %s: [%d, +%d) beyond the blob (%d bytes)", t.name(), t.compressedOffset(),
                    t.compressedSize(), size);
            list.add(new Section(t.name(), t.compressedOffset(), t.compressedSize(), t.uncompressedSize(),
                    t.compressor(), t.digest()));
        }
        byte[] raw = Arrays.copyOf(entries, entries.length + TarHeader.SIZE);
        System.arraycopy(headerBytes, 0, raw, entries.length, TarHeader.SIZE);
        return new BlobSections(list, raw);
    }

    private static BlobSections scanTarHeaders(BlobReader blob, long size) throws IOException {
        List<Section> list = new ArrayList<>();
        long end = size;
        while (end >= TarHeader.SIZE) {
            byte[] h = blob.read(end - TarHeader.SIZE, TarHeader.SIZE);
            TarHeader.Entry e = TarHeader.decode(h, 0);
            if (e == null) {
                break;
            }
            long payloadEnd = end - TarHeader.SIZE;
            RafsFormatException.require(e.size() <= payloadEnd, "blob tar header %s: size %d beyond the start",
                    e.name(), e.size());
            long start = payloadEnd - e.size();
            Compressor c = Compressor.NONE;
            long usize = e.size();
            if (e.name().equals(TarHeader.IMAGE_BOOT) && e.size() >= 4) {
                byte[] magic = blob.read(start, 4);
                if ((magic[0] & 0xFF) == 0x28 && (magic[1] & 0xFF) == 0xB5 && (magic[2] & 0xFF) == 0x2F
                        && (magic[3] & 0xFF) == 0xFD) {
                    c = Compressor.ZSTD;
                    usize = -1;
                }
            }
            list.add(0, new Section(e.name(), start, e.size(), usize, c, null));
            if (e.name().equals(TarHeader.IMAGE_BLOB)) {
                break;
            }
            end = start;
        }
        return new BlobSections(list, null);
    }

    /**
     * Reads and decodes a section, verifying its sha256 when the TOC recorded one.
     *
     * @param limit refuse sections that decode to more than this many bytes
     */
    public byte[] load(BlobReader blob, Section s, long limit) throws IOException {
        RafsFormatException.require(s.compressedSize() <= limit, "blob section %s: %d bytes exceed the limit %d",
                s.name(), s.compressedSize(), limit);
        byte[] stored = blob.read(s.offset(), (int) s.compressedSize());
        byte[] data;
        if (s.compressor() == Compressor.NONE) {
            data = stored;
        } else if (s.uncompressedSize() < 0) {
            data = Compressor.zstdDecompressFrame(stored, limit);
        } else {
            RafsFormatException.require(s.uncompressedSize() <= limit,
                    "blob section %s: %d uncompressed bytes exceed the limit %d", s.name(), s.uncompressedSize(),
                    limit);
            data = s.compressor().decompress(stored, (int) s.uncompressedSize());
        }
        if (s.digest() != null && !s.name().equals(TarHeader.IMAGE_BLOB)) {
            MessageDigest md = Digester.sha256();
            RafsFormatException.require(Arrays.equals(md.digest(data), s.digest()),
                    "blob section %s: sha256 does not match the TOC", s.name());
        }
        return data;
    }
}
