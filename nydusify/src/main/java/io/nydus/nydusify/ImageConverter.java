package io.nydus.nydusify;

import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.builder.MergeOptions;
import io.nydus.builder.Merger;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.Digests;
import io.nydus.nydusify.oci.ImageConfig;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.nydusify.oci.Platform;
import io.nydus.rafs.BlobInfo;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code nydusify convert}: turns an OCI or Docker image (a manifest, or the chosen platforms of an index) into a
 * nydus image.
 *
 * <pre>
 * layers ─(≤ parallelLayers at once)─▶ LayerConverter ─▶ nydus blob ─▶ target (pushed as soon as it is ready)
 * layer bootstraps ─▶ Merger (whiteouts applied, blob id = layer digest) ─▶ BootstrapLayer ─▶ target
 * config (diff_ids, history) ─▶ manifest ─▶ [index] ─▶ tag: the last write, so a failure never creates or moves it
 * </pre>
 */
public final class ImageConverter {
    private final ConvertOptions options;
    private final Progress progress;

    public ImageConverter(ConvertOptions options, Progress progress) {
        this.options = options;
        this.progress = progress;
    }

    public ConvertResult convert(ImageReference sourceRef, ImageReference targetRef) throws IOException {
        if (targetRef.digest() != null) {
            throw new NydusifyException("target " + targetRef + " must name a tag, not a digest");
        }
        long start = System.nanoTime();
        WorkDir workDir = WorkDir.create(options.workDir, "nydusify-convert-");
        Path work = workDir.path();
        ExecutorService pool = Executors.newFixedThreadPool(options.parallelLayers, r -> {
            Thread t = new Thread(r, "nydusify-layer");
            t.setDaemon(true);
            return t;
        });
        ExecutorService pushPool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "nydusify-push");
            t.setDaemon(true);
            return t;
        });
        List<ChunkDictImage> dicts = new ArrayList<>();
        // A registry client takes a moment to set up (TLS context): the target's is made while the source streams.
        try (ImageStore source = ImageStores.open(sourceRef, options.source, work, false);
                ImageStore target = targetRef.isRegistry() ? new DeferredStore(targetRef.toString(),
                        () -> ImageStores.open(targetRef, options.target, work, true))
                        : ImageStores.open(targetRef, options.target, work, true)) {
            Timing.mark("stores open");
            for (String spec : options.chunkDicts) {
                dicts.add(ChunkDictImage.open(spec, options, sourceRef, work));
            }
            Session s = new Session(sourceRef, targetRef, source, target, work, pool, pushPool, dicts);
            ConvertResult r = s.run(start);
            target.commit();
            return r;
        } finally {
            pool.shutdownNow();
            pushPool.shutdownNow();
            // after a failure, layer tasks may still be stopping: let them, so that nothing writes into the work
            // directory while it is removed
            awaitQuietly(pool);
            awaitQuietly(pushPool);
            for (ChunkDictImage d : dicts) {
                d.close();
            }
            workDir.close();
        }
    }

    /** One conversion: its stores, pool and the layers converted so far. */
    private final class Session {
        private final ImageReference sourceRef;
        private final ImageReference targetRef;
        private final ImageStore source;
        private final ImageStore target;
        private final Path work;
        private final ExecutorService pool;
        private final ExecutorService pushPool;
        private final List<ChunkDictImage> dicts;
        private final ImagePusher pusher;
        private final LayerConverter layers;
        private final Map<String, Future<ConvertedLayer>> converted = new ConcurrentHashMap<>();
        private final Map<String, Future<ConvertedLayer>> pushes = new ConcurrentHashMap<>();
        private final List<ConvertResult.Image> images = new ArrayList<>();
        /** The bytes of the manifest converted last (what is tagged when the result is a single manifest). */
        private byte[] lastManifestBytes;
        private long sourceBytes;
        private long uncompressedBytes;

        Session(ImageReference sourceRef, ImageReference targetRef, ImageStore source, ImageStore target, Path work,
                ExecutorService pool, ExecutorService pushPool, List<ChunkDictImage> dicts) {
            this.sourceRef = sourceRef;
            this.targetRef = targetRef;
            this.source = source;
            this.target = target;
            this.work = work;
            this.pool = pool;
            this.pushPool = pushPool;
            this.dicts = dicts;
            this.pusher = new ImagePusher(target, options.pushRetryCount, options.pushRetryDelay);
            this.layers = new LayerConverter(options, work, progress);
        }

        ConvertResult run(long startNanos) throws IOException {
            Timing.mark("start");
            Manifest top = source.manifest(sourceRef.reference());
            String topType = PlatformFilter.mediaType(top);
            Descriptor result;
            byte[] resultBytes;
            if (PlatformFilter.isIndex(top)) {
                ImageIndex idx = ImageIndex.parse(top.bytes(), "index " + top.digest() + " of " + sourceRef);
                PlatformFilter filter = new PlatformFilter(options.platforms, options.allPlatforms);
                List<Descriptor> chosen = filter.select(idx, false);
                if (chosen.isEmpty()) {
                    if (!filter.select(idx, true).isEmpty()) {
                        throw new NydusifyException(sourceRef + " is already a nydus image");
                    }
                    throw new NydusifyException(sourceRef + ": index " + top.digest() + " has no manifest for "
                            + filter.describe());
                }
                List<Descriptor> entries = new ArrayList<>();
                for (Descriptor d : chosen) {
                    Manifest m = source.manifest(d.digest);
                    Descriptor nydus = convertManifest(m, d.platform);
                    if (options.mergePlatform) {
                        new ImageCopier(source, pusher, progress).copyManifest(m, sourceRef.toString());
                        entries.add(d.copy());
                    }
                    entries.add(nydus);
                }
                if (entries.size() == 1) {
                    result = entries.get(0);
                    resultBytes = lastManifestBytes;
                } else {
                    ImageIndex out = new ImageIndex();
                    boolean docker = !options.mergePlatform && !options.oci
                            && (options.dockerV2 || MediaTypes.DOCKER_MANIFEST_LIST.equals(topType));
                    out.mediaType = docker ? MediaTypes.DOCKER_MANIFEST_LIST : MediaTypes.OCI_INDEX;
                    out.annotations = idx.annotations;
                    out.manifests = entries;
                    resultBytes = out.bytes();
                    result = new Descriptor(out.mediaType, Digests.sha256(resultBytes), resultBytes.length);
                }
            } else {
                Descriptor nydus = convertManifest(top, null);
                if (options.mergePlatform) {
                    new ImageCopier(source, pusher, progress).copyManifest(top, sourceRef.toString());
                    Descriptor original = new Descriptor(topType, top.digest(), top.size());
                    original.platform = nydus.platform.copy();
                    ImageIndex out = new ImageIndex();
                    out.mediaType = MediaTypes.OCI_INDEX;
                    out.manifests = List.of(original, nydus);
                    resultBytes = out.bytes();
                    result = new Descriptor(out.mediaType, Digests.sha256(resultBytes), resultBytes.length);
                } else {
                    result = nydus;
                    resultBytes = lastManifestBytes;
                }
            }
            Descriptor tagged = result.copy();
            tagged.platform = null;
            tagged.artifactType = null;
            pusher.tag(targetRef.tag(), tagged, resultBytes);
            Timing.mark("tagged");
            progress.info("converted " + sourceRef + " -> " + targetRef + " (" + result.digest + "), sent "
                    + Progress.bytes(pusher.uploadedBytes()) + " in " + pusher.uploadedBlobs() + " blobs, "
                    + pusher.existingBlobs() + " already present, " + pusher.mountedBlobs() + " mounted"
                    + (pusher.discardedBytes() > 0 ? " (" + Progress.bytes(pusher.discardedBytes())
                            + " streamed while building and dropped: the target had them)" : ""));
            return new ConvertResult(sourceRef.toString(), targetRef.toString(), result.digest, result.mediaType,
                    images, pusher.uploadedBytes(), pusher.uploadedBlobs(), pusher.existingBlobs(),
                    pusher.mountedBlobs(), sourceBytes, uncompressedBytes, (System.nanoTime() - startNanos) / 1e9);
        }

        /** Converts one image manifest, pushes everything it needs, and returns its (untagged) descriptor. */
        Descriptor convertManifest(Manifest m, Platform entryPlatform) throws IOException {
            String name = sourceRef + (entryPlatform != null ? " (" + entryPlatform + ")" : "");
            String type = PlatformFilter.mediaType(m);
            if (!MediaTypes.isManifest(type)) {
                throw new NydusifyException(name + ": manifest " + m.digest() + " has unsupported media type " + type);
            }
            ImageManifest man = ImageManifest.parse(m.bytes(), "manifest " + m.digest() + " of " + name);
            if (man.isNydus()) {
                throw new NydusifyException(name + " is already a nydus image");
            }
            for (Descriptor l : man.layers) {
                if (!MediaTypes.isTarLayer(l.mediaType)) {
                    throw new NydusifyException("layer " + l.digest + " of " + name + ": unsupported media type "
                            + l.mediaType);
                }
                Digests.require(l.digest, "layer of " + name);
            }
            byte[] configBytes = ImageCopier.readDocument(source, man.config, "config of " + name);
            ImageConfig config = ImageConfig.parse(configBytes, "config " + man.config.digest + " of " + name);
            Platform platform = entryPlatform != null ? entryPlatform.copy() : config.platform();
            List<Path> dictBoots = dicts.stream().map(ChunkDictImage::bootstrap).toList();

            // Convert every layer, at most parallelLayers at once; each blob is pushed as soon as it is ready, beside
            // the conversions and the merge. The first failure stops the rest.
            List<Future<ConvertedLayer>> futures = new ArrayList<>();
            for (Descriptor l : man.layers) {
                futures.add(converted.computeIfAbsent(l.digest, k -> pool.submit(() -> {
                    // The blob goes to a registry target while it is built; committed once its digest is known.
                    StreamedBlob streamed = pusher.startStreamedBlob();
                    ConvertedLayer c;
                    try {
                        c = layers.convert(source, l, name, dictBoots, streamed == null ? null : streamed.pipe());
                    } catch (IOException | RuntimeException e) {
                        if (streamed != null) {
                            streamed.abandon(e);
                        }
                        throw e;
                    }
                    boolean[] pushedHere = {false};
                    pushes.computeIfAbsent(c.blob().digest, d -> {
                        pushedHere[0] = true;
                        if (streamed != null) {
                            streamed.pipe().close(); // the body ends now; the merge runs while it is sent
                        }
                        return pushPool.submit(() -> {
                            pusher.pushStreamedBlob(c.blob(), BlobSource.ofFile(c.blobFile()), streamed);
                            return c;
                        });
                    });
                    if (!pushedHere[0] && streamed != null) {
                        streamed.abandon(new IOException("the same blob is pushed for another layer"));
                    }
                    return c;
                })));
            }
            List<ConvertedLayer> done = new ArrayList<>();
            for (Future<ConvertedLayer> f : futures) {
                done.add(await(f, futures));
            }
            Timing.mark("layers converted");
            for (ConvertedLayer c : done) {
                sourceBytes += c.source().size;
                uncompressedBytes += c.uncompressedBytes();
            }

            // Merge the layer bootstraps; each layer's own blob is renamed after its layer digest.
            MergeOptions mo = new MergeOptions();
            mo.sources = new ArrayList<>(done.stream().map(ConvertedLayer::bootstrap).toList());
            mo.blobDigests = new ArrayList<>(done.stream().map(c -> c.blob().digest).toList());
            mo.implicitDirs = new ArrayList<>(done.stream().map(ConvertedLayer::implicitDirs).toList());
            mo.built = new ArrayList<>(done.stream().map(ConvertedLayer::takeBuilt).toList());
            mo.prefetchPatterns = options.prefetchPatterns;
            mo.chunkDicts = dictBoots;
            mo.bootstrap = Files.createTempFile(work, "merged-", ".boot");
            Merger.Result merged;
            try {
                merged = Merger.merge(mo);
            } catch (IOException | RuntimeException e) {
                throw new NydusifyException("merging the layers of " + name + ": " + e.getMessage(), e);
            }

            Timing.mark("merged");
            // Blob layers in blob-table order: the converted layers, and blobs reused through a chunk dict.
            Map<String, ConvertedLayer> byHex = new HashMap<>();
            for (ConvertedLayer c : done) {
                byHex.putIfAbsent(c.blob().hex(), c);
            }
            List<Descriptor> blobLayers = new ArrayList<>();
            Map<String, byte[]> metas = new LinkedHashMap<>();
            List<String> dictBlobs = new ArrayList<>();
            for (BlobInfo b : merged.blobs()) {
                ConvertedLayer c = byHex.get(b.blobId());
                if (c != null) {
                    blobLayers.add(c.blob().copy());
                    if (c.blobMeta() != null) {
                        metas.put(b.blobId(), c.blobMeta());
                    }
                } else {
                    blobLayers.add(pushDictBlob(b.blobId(), name));
                    dictBlobs.add("sha256:" + b.blobId());
                }
            }
            // the bootstrap layer is written while the last layer blob may still be on its way
            boolean docker = options.dockerV2 || (!options.oci && MediaTypes.isDocker(type));
            BootstrapLayer.Written boot = BootstrapLayer.write(merged.bootstrap(), metas, merged.version(), docker,
                    Files.createTempFile(work, "bootstrap-layer-", ".tar.gz"));
            Timing.mark("bootstrap layer written");
            for (ConvertedLayer c : done) {
                await(pushes.get(c.blob().digest), new ArrayList<>(pushes.values()));
            }
            Timing.mark("layer blobs pushed");
            // the bootstrap layer goes up beside the config
            Future<Object> bootPush = pushPool.submit(() -> {
                pusher.pushBlob(boot.descriptor(), BlobSource.ofFile(boot.file()), null);
                return null;
            });

            ImageConfig nydusConfig = config.copy();
            List<String> diffIds = new ArrayList<>();
            blobLayers.forEach(d -> diffIds.add(d.digest));
            diffIds.add(boot.diffId());
            nydusConfig.setDiffIds(diffIds);
            nydusConfig.appendHistory("Nydus Converter", "Nydus Bootstrap Layer");
            byte[] newConfig = nydusConfig.bytes();
            String configType = options.mergePlatform ? MediaTypes.NYDUS_CONFIG
                    : docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG;
            Descriptor configDesc = new Descriptor(configType, Digests.sha256(newConfig), newConfig.length);
            try {
                pusher.pushBlob(configDesc, BlobSource.ofBytes(newConfig), null);
            } catch (IOException | RuntimeException e) {
                bootPush.cancel(true);
                throw e;
            }
            await(bootPush, List.of(bootPush));
            Timing.mark("bootstrap layer and config pushed");

            ImageManifest out = new ImageManifest();
            out.mediaType = docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST;
            out.config = configDesc;
            out.layers = new ArrayList<>(blobLayers);
            out.layers.add(boot.descriptor());
            out.annotations = man.annotations;
            byte[] bytes = out.bytes();
            pusher.pushManifest(out.mediaType, bytes);
            lastManifestBytes = bytes;

            Descriptor d = new Descriptor(out.mediaType, Digests.sha256(bytes), bytes.length);
            d.platform = platform;
            if (options.mergePlatform) {
                d.artifactType = MediaTypes.NYDUS_ARTIFACT;
            }
            List<ConvertResult.Layer> layerInfo = new ArrayList<>();
            for (ConvertedLayer c : done) {
                layerInfo.add(new ConvertResult.Layer(c.source().digest, c.source().size, c.uncompressedBytes(),
                        c.blob().digest, c.blob().size, c.chunks(), c.dedupedChunks(), c.seconds()));
            }
            images.add(new ConvertResult.Image(platform.toString(), m.digest(), d.digest, layerInfo,
                    boot.descriptor().digest, boot.descriptor().size, dictBlobs));
            return d;
        }

        /** A blob the merged bootstrap references through a chunk dict: put it in the target repository. */
        private Descriptor pushDictBlob(String blobId, String name) throws IOException {
            String digest = "sha256:" + blobId;
            for (ChunkDictImage dict : dicts) {
                Descriptor d = dict.blob(blobId);
                if (d != null) {
                    Descriptor blob = new Descriptor(MediaTypes.NYDUS_BLOB, digest, d.size);
                    blob.annotate(MediaTypes.ANNOTATION_NYDUS_BLOB, "true");
                    new ImageCopier(dict.store(), pusher, progress).copyBlob(blob, "chunk dict " + dict.spec());
                    return blob;
                }
            }
            if (target.hasBlob(digest)) {
                Descriptor blob = new Descriptor(MediaTypes.NYDUS_BLOB, digest, target.blobSize(digest));
                blob.annotate(MediaTypes.ANNOTATION_NYDUS_BLOB, "true");
                return blob;
            }
            throw new NydusifyException(name + ": blob " + digest + " reused through a chunk dict is neither in "
                    + target.describe() + " nor in a chunk dict image");
        }
    }

    private static <T> T await(Future<T> f, List<? extends Future<?>> all) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            all.forEach(x -> x.cancel(true));
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException r) {
                throw new NydusifyException(String.valueOf(r.getMessage()), r);
            }
            throw new NydusifyException(String.valueOf(c), c);
        } catch (InterruptedException e) {
            all.forEach(x -> x.cancel(true));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("conversion interrupted");
        }
    }

    private static void awaitQuietly(ExecutorService pool) {
        try {
            pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
