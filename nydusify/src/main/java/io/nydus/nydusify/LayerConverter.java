package io.nydus.nydusify;

import io.nydus.builder.CreateOptions;
import io.nydus.builder.LayerCompression;
import io.nydus.builder.CreateResult;
import io.nydus.builder.ImageCreator;
import io.nydus.builder.WhiteoutSpec;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Converts one OCI layer into a nydus blob layer: the layer streams from its store, is verified against its digest
 * as it goes, decompressed (gzip, zstd or none, by magic bytes) and fed straight into the builder, which chunks and
 * compresses on all cores. Nothing is unpacked to disk. Whiteouts stay in the layer bootstrap; merging applies them.
 */
public final class LayerConverter {

    private final ConvertOptions options;
    private final Path workDir;
    private final Progress progress;

    public LayerConverter(ConvertOptions options, Path workDir, Progress progress) {
        this.options = options;
        this.workDir = workDir;
        this.progress = progress;
    }

    /**
     * @param image      names the image in messages
     * @param chunkDicts bootstraps whose chunks the new blob may reuse instead of storing again
     * @param blobCopy   receives the blob's bytes as they are written (an upload running meanwhile), or null
     */
    public ConvertedLayer convert(ImageStore source, Descriptor layer, String image, List<Path> chunkDicts,
            OutputStream blobCopy) throws IOException {
        String what = "layer " + layer.digest + " of " + image;
        if (!MediaTypes.isTarLayer(layer.mediaType)) {
            throw new NydusifyException(what + ": unsupported media type " + layer.mediaType);
        }
        Digests.require(layer.digest, what);
        Path dir = Files.createTempDirectory(workDir, "layer-" + layer.hex().substring(0, 12) + "-");
        Path blobFile = dir.resolve("blob");
        Path bootstrap = dir.resolve("bootstrap");
        Progress.Task task = progress.start("layer " + shortDigest(layer.digest), layer.size);
        boolean ok = false;
        try {
            CreateResult r;
            long tarBytes;
            try (InputStream raw = source.openBlob(layer)) {
                // the store's stream checks the digest at its end; this one counts, reports and checks the size
                VerifiedStream verified = new VerifiedStream(raw, null, layer.size, what, task::update);
                ReadAhead ahead = new ReadAhead(decompressed(verified, what), 1 << 20, 4, "nydusify-layer-read");
                CountingStream tar = new CountingStream(ahead);
                CreateOptions o = new CreateOptions();
                o.sourceType = CreateOptions.SourceType.TAR;
                o.sourceStream = tar;
                o.fsVersion = options.fsVersion;
                o.compressor = options.compressor;
                o.chunkSize = options.chunkSize;
                o.blob = blobFile;
                o.blobCopy = blobCopy;
                o.bootstrap = bootstrap;
                o.blobInlineMeta = true;
                o.blobToc = options.fsVersion == RafsVersion.V6;
                o.whiteoutSpec = WhiteoutSpec.NONE;
                o.chunkDicts = List.copyOf(chunkDicts);
                o.prefetchPatterns = options.prefetchPatterns;
                try {
                    r = ImageCreator.create(o);
                    Timing.mark("layer built");
                    tar.drain();
                } catch (IOException | RuntimeException e) {
                    ahead.abandon();
                    // Corrupt bytes usually surface as a decompression or tar error first: name the digest mismatch.
                    drainQuietly(verified, what);
                    throw new NydusifyException(what + ": " + NydusifyException.oneLine(e.getMessage()), e);
                }
                try {
                    verified.drain();
                } catch (IOException e) {
                    throw named(e, what);
                }
                tarBytes = tar.count;
            }
            String digest = r.blobDigest();
            long size = Files.size(blobFile);
            Descriptor blob = new Descriptor(MediaTypes.NYDUS_BLOB, digest, size);
            blob.annotate(MediaTypes.ANNOTATION_NYDUS_BLOB, "true");
            byte[] meta = null;
            if (options.fsVersion == RafsVersion.V6 && r.blob() != null) {
                try (BlobReader reader = BlobReader.ofFile(blobFile)) {
                    meta = BlobMeta.fromBlob(reader, r.blob()).toCacheFile();
                }
            }
            ConvertedLayer out = new ConvertedLayer(layer, blob, blobFile, bootstrap, meta, tarBytes, r.chunks(),
                    r.dedupedChunks(), task.seconds(), r.implicitDirs(), new AtomicReference<>(r.built()));
            task.finish(String.format(Locale.ROOT, "%s (%s uncompressed) in %.1f s, %s/s -> nydus blob %s, %s",
                    Progress.bytes(layer.size), Progress.bytes(tarBytes), task.seconds(),
                    Progress.bytes((long) (tarBytes / Math.max(task.seconds(), 1e-3))), shortDigest(digest),
                    Progress.bytes(size)));
            ok = true;
            return out;
        } finally {
            if (!ok) {
                task.abandon();
            }
        }
    }

    /** The tar inside a layer blob, by its first bytes: gzip, zstd, or an uncompressed tar. */
    static InputStream decompressed(InputStream raw, String what) throws IOException {
        try {
            return LayerCompression.decompressed(raw);
        } catch (IOException e) {
            throw new NydusifyException(what + ": cannot decompress: " + e.getMessage(), e);
        }
    }

    static String shortDigest(String digest) {
        String hex = Digests.hex(digest);
        return Digests.algorithm(digest) + ":" + hex.substring(0, Math.min(12, hex.length()));
    }

    private static void drainQuietly(VerifiedStream v, String what) throws NydusifyException {
        try {
            v.drain();
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("content digest")) {
                throw named(e, what);
            }
            // the transfer itself failed: the original error says more
        }
    }

    /** The error with the layer and image in front, unless it names them already. */
    private static NydusifyException named(IOException e, String what) {
        String m = String.valueOf(e.getMessage());
        return new NydusifyException(m.startsWith(what) ? m : what + ": " + m, e);
    }

    /** Counts the uncompressed bytes the builder reads. */
    private static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += Math.max(s, 0);
            return s;
        }

        void drain() throws IOException {
            byte[] buf = new byte[1 << 16];
            while (read(buf, 0, buf.length) >= 0) {
                // trailing zero blocks and padding
            }
        }
    }
}
