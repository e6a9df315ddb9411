package io.nydus.nydusify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.DirectChunkSource;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.builder.Checker;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.ImageConfig;
import io.nydus.nydusify.oci.ImageIndex;
import io.nydus.nydusify.oci.ImageManifest;
import io.nydus.nydusify.oci.MediaTypes;
import io.nydus.nydusify.oci.Platform;
import io.nydus.rafs.BlobInfo;
import io.nydus.rafs.RafsSuper;
import io.nydus.rafs.RafsVersion;
import io.nydus.rafs.blob.BlobMeta;
import io.nydus.rafs.blob.BlobReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * {@code nydusify check}: validates a nydus image and compares it with its source.
 * <ol>
 * <li>Manifest: blob layers are {@code application/vnd.oci.image.layer.nydus.blob.v1} with the nydus-blob
 * annotation, the last layer is the bootstrap layer with its annotations; the config's diff_ids match the layers
 * and its execution parameters equal the source's.</li>
 * <li>Bootstrap: the layer holds {@code image/image.boot}, its diff_id matches, it opens and passes the structural
 * check, its blob table names exactly the blob layers, every blob has the size its descriptor declares, and each
 * {@code <blob id>.blob.meta} equals the ci table in the blob.</li>
 * <li>Filesystem: every file is read through the library (chunks fetched from the store and verified) and compared
 * with the source image's layers merged by {@link SourceTree}: type, mode, owner, mtime, content, symlink target,
 * device, hard links, xattrs.</li>
 * </ol>
 */
public final class ImageChecker {
    /** Differences listed per image before the rest are only counted. */
    static final int MAX_LISTED = 50;

    private final List<Platform> platforms;
    private final boolean allPlatforms;
    private final RegistryOptions sourceOptions;
    private final RegistryOptions targetOptions;
    private final Path workDir;
    private final Progress progress;

    public ImageChecker(List<Platform> platforms, boolean allPlatforms, RegistryOptions sourceOptions,
            RegistryOptions targetOptions, Path workDir, Progress progress) {
        this.platforms = platforms;
        this.allPlatforms = allPlatforms;
        this.sourceOptions = sourceOptions;
        this.targetOptions = targetOptions;
        this.workDir = workDir;
        this.progress = progress;
    }

    /** Checks {@code targetRef}; compares its files with {@code sourceRef} when that is not null. */
    public CheckReport check(ImageReference targetRef, ImageReference sourceRef) throws IOException {
        CheckReport report = new CheckReport();
        try (WorkDir wd = WorkDir.create(workDir, "nydusify-check-")) {
            return check(targetRef, sourceRef, report, wd.path());
        }
    }

    private CheckReport check(ImageReference targetRef, ImageReference sourceRef, CheckReport report, Path work)
            throws IOException {
        try (ImageStore target = ImageStores.open(targetRef, targetOptions, work, false);
                ImageStore source = sourceRef == null ? null : ImageStores.open(sourceRef, sourceOptions, work, false)) {
            PlatformFilter filter = new PlatformFilter(platforms, allPlatforms);
            Manifest top = target.manifest(targetRef.reference());
            List<PlatformFilter.Entry> nydus;
            if (PlatformFilter.isIndex(top)) {
                ImageIndex idx = ImageIndex.parse(top.bytes(), "index " + top.digest() + " of " + targetRef);
                nydus = filter.nydusManifests(target, idx);
                if (nydus.isEmpty()) {
                    throw new NydusifyException(targetRef + ": index " + top.digest() + " has no nydus manifest for "
                            + filter.describe());
                }
            } else {
                nydus = List.of(new PlatformFilter.Entry(
                        new Descriptor(PlatformFilter.mediaType(top), top.digest(), top.size()), top));
            }
            Manifest sourceTop = source == null ? null : source.manifest(sourceRef.reference());
            for (PlatformFilter.Entry e : nydus) {
                report.addManifest();
                Descriptor d = e.descriptor();
                String name = targetRef + (d.platform != null ? " (" + d.platform + ")" : "");
                checkImage(target, e.manifest(), name, source, sourceTop, sourceRef, work, report);
            }
        }
        return report;
    }

    private void checkImage(ImageStore target, Manifest m, String name, ImageStore source, Manifest sourceTop, ImageReference sourceRef, Path work, CheckReport report) throws IOException {
        ImageManifest man = ImageManifest.parse(m.bytes(), "manifest " + m.digest() + " of " + name);
        int before = report.problems().size();
        // 1. manifest rules
        if (man.layers.isEmpty() || !man.isNydus()) {
            report.problem(name + ": the last layer is not a nydus bootstrap layer (annotation "
                    + MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP + ")");
            return;
        }
        Descriptor bootDesc = man.bootstrapLayer();
        if (!"true".equals(bootDesc.annotation(MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP))) {
            report.problem(name + ": bootstrap layer annotation " + MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP + " is '"
                    + bootDesc.annotation(MediaTypes.ANNOTATION_NYDUS_BOOTSTRAP) + "', not 'true'");
        }
        if (!MediaTypes.OCI_LAYER_GZIP.equals(bootDesc.mediaType) && !MediaTypes.DOCKER_LAYER_GZIP.equals(bootDesc.mediaType)) {
            report.problem(name + ": bootstrap layer has media type " + bootDesc.mediaType);
        }
        List<Descriptor> blobs = man.layers.subList(0, man.layers.size() - 1);
        for (Descriptor b : blobs) {
            if (!MediaTypes.NYDUS_BLOB.equals(b.mediaType) || !"true".equals(b.annotation(MediaTypes.ANNOTATION_NYDUS_BLOB))) {
                report.problem(name + ": layer " + b.digest + " is not a nydus blob layer (media type " + b.mediaType
                        + ", annotation " + MediaTypes.ANNOTATION_NYDUS_BLOB + "=" + b.annotation(MediaTypes.ANNOTATION_NYDUS_BLOB) + ")");
            }
        }
        byte[] configBytes = ImageCopier.readDocument(target, man.config, "config of " + name);
        ImageConfig config = ImageConfig.parse(configBytes, "config " + man.config.digest + " of " + name);
        List<String> diffIds = config.diffIds();
        if (diffIds.size() != man.layers.size()) {
            report.problem(name + ": config has " + diffIds.size() + " diff_ids for " + man.layers.size() + " layers");
        } else {
            for (int i = 0; i < blobs.size(); i++) {
                if (!blobs.get(i).digest.equals(diffIds.get(i))) {
                    report.problem(name + ": diff_id " + i + " is " + diffIds.get(i) + ", the blob layer is " + blobs.get(i).digest);
                }
            }
        }
        List<JsonNode> history = config.history();
        if (history.isEmpty() || !"Nydus Converter".equals(history.get(history.size() - 1).path("created_by").asText())) {
            report.problem(name + ": the config history does not end with the Nydus Converter entry");
        }

        // 2. bootstrap
        Path boot = Files.createTempFile(work, "check-", ".boot");
        BootstrapLayer.Contents contents;
        try (InputStream in = target.openBlob(bootDesc)) {
            contents = BootstrapLayer.read(in, boot, name + " bootstrap layer " + bootDesc.digest);
        }
        if (diffIds.size() == man.layers.size() && !contents.diffId().equals(diffIds.get(diffIds.size() - 1))) {
            report.problem(name + ": bootstrap layer diff_id is " + contents.diffId() + ", the config says "
                    + diffIds.get(diffIds.size() - 1));
        }
        RafsSuper sb;
        try {
            sb = RafsSuper.open(boot);
        } catch (IOException | RuntimeException e) {
            report.problem(name + ": bootstrap does not open: " + e.getMessage());
            return;
        }
        String fsv = bootDesc.annotation(MediaTypes.ANNOTATION_NYDUS_FS_VERSION);
        String actualVersion = sb.version() == RafsVersion.V6 ? "6" : "5";
        if (!actualVersion.equals(fsv)) {
            report.problem(name + ": annotation " + MediaTypes.ANNOTATION_NYDUS_FS_VERSION + " is '" + fsv
                    + "', the bootstrap is RAFS v" + actualVersion);
        }
        try {
            Checker.check(sb, null, null);
        } catch (IOException | RuntimeException e) {
            report.problem(name + ": bootstrap check: " + e.getMessage());
        }
        List<String> tableIds = sb.blobs().stream().map(BlobInfo::blobId).toList();
        List<String> layerIds = blobs.stream().map(Descriptor::hex).toList();
        if (!tableIds.equals(layerIds)) {
            report.problem(name + ": bootstrap blob table " + tableIds + " differs from the blob layers " + layerIds);
        }
        try (BlobBackend backend = target.backend()) {
            for (Descriptor b : blobs) {
                long size = backend.blobSize(b.hex());
                if (size != b.size) {
                    report.problem(name + ": blob " + b.digest + " has " + size + " bytes, its descriptor says " + b.size);
                }
            }
            if (sb.version() == RafsVersion.V6) {
                for (BlobInfo b : sb.blobs()) {
                    byte[] meta = contents.blobMetas().get(b.blobId());
                    if (meta == null) {
                        continue; // blobs reused through a chunk dict carry their ci table in the blob only
                    }
                    BlobMeta inBlob = BlobMeta.fromBlob(new BackendReader(backend, b.blobId()), b);
                    if (!Arrays.equals(meta, inBlob.toCacheFile())) {
                        report.problem(name + ": image/" + b.blobId() + ".blob.meta differs from the ci table in the blob");
                    }
                }
            }
            if (report.problems().size() > before) {
                return; // a broken image: comparing files would only repeat the problem
            }

            // 3. filesystem
            Map<String, FileRecord> actual;
            try (DirectChunkSource chunks = new DirectChunkSource(sb.blobs(), new Unclosed(backend), true)) {
                actual = NydusTree.read(sb, chunks);
            } catch (NydusifyException e) {
                report.problem(name + ": " + e.getMessage());
                return;
            }
            long bytes = actual.values().stream().filter(r -> r.type().equals("file")).mapToLong(FileRecord::size).sum();
            if (source == null) {
                report.addEntries(actual.size(), 0, bytes);
                return;
            }
            Platform platform = config.platform();
            SourceImage src = sourceImage(source, sourceTop, sourceRef, platform, work);
            if (!Objects.equals(stripArgsEscaped(src.config.execConfig()), stripArgsEscaped(config.execConfig()))) {
                report.problem(name + ": config differs from the source's: " + src.config.execConfig() + " -> "
                        + config.execConfig());
            }
            Map<String, FileRecord> expected = src.tree.records();
            int listed = 0;
            int differences = 0;
            TreeSet<String> paths = new TreeSet<>(expected.keySet());
            paths.addAll(actual.keySet());
            for (String p : paths) {
                FileRecord e = expected.get(p);
                FileRecord a = actual.get(p);
                String diff;
                if (e == null) {
                    diff = p + ": only in the nydus image (" + a.type() + ")";
                } else if (a == null) {
                    diff = p + ": missing from the nydus image (" + e.type() + ")";
                } else {
                    List<String> fields = p.equals("/") && !e.attributes() ? List.of() : e.differences(a);
                    diff = fields.isEmpty() ? null : p + ": " + String.join(", ", fields);
                }
                if (diff != null) {
                    differences++;
                    if (listed++ < MAX_LISTED) {
                        report.problem(name + ": " + diff);
                    }
                }
            }
            if (differences > MAX_LISTED) {
                report.problem(name + ": " + (differences - MAX_LISTED) + " more differences not listed");
            }
            report.addEntries(actual.size(), expected.size(), bytes);
            progress.info("checked " + name + ": " + actual.size() + " entries, " + Progress.bytes(bytes)
                    + " of file data read and verified, " + differences + " differences from " + sourceRef);
        }
    }

    private record SourceImage(ImageConfig config, SourceTree tree) {
    }

    /** The source manifest for {@code platform}, with its layers merged into a {@link SourceTree}. */
    private SourceImage sourceImage(ImageStore source, Manifest top, ImageReference ref, Platform platform, Path work)
            throws IOException {
        Manifest m = top;
        if (PlatformFilter.isIndex(top)) {
            ImageIndex idx = ImageIndex.parse(top.bytes(), "index " + top.digest() + " of " + ref);
            List<Descriptor> c = new PlatformFilter(List.of(platform), false).select(idx, false);
            if (c.isEmpty()) {
                throw new NydusifyException(ref + ": index " + top.digest() + " has no manifest for " + platform);
            }
            m = source.manifest(c.get(0).digest);
        }
        ImageManifest man = ImageManifest.parse(m.bytes(), "manifest " + m.digest() + " of " + ref);
        ImageConfig config = ImageConfig.parse(ImageCopier.readDocument(source, man.config, "config of " + ref),
                "config of " + ref);
        SourceTree tree = new SourceTree();
        for (Descriptor l : man.layers) {
            String what = "layer " + l.digest + " of " + ref;
            if (!MediaTypes.isTarLayer(l.mediaType)) {
                throw new NydusifyException(what + ": unsupported media type " + l.mediaType);
            }
            try (InputStream raw = source.openBlob(l)) {
                VerifiedStream v = new VerifiedStream(raw, null, l.size, what, null);
                tree.apply(LayerConverter.decompressed(v, what), what);
                v.drain();
            }
        }
        return new SourceImage(config, tree);
    }

    private static JsonNode stripArgsEscaped(JsonNode config) {
        if (config instanceof ObjectNode o) {
            ObjectNode c = o.deepCopy();
            c.remove("ArgsEscaped");
            return c;
        }
        return config;
    }

    /** A blob of a backend as a {@link BlobReader}, to read its ci table. */
    private record BackendReader(BlobBackend backend, String blobId) implements BlobReader {
        @Override
        public long size() throws IOException {
            return backend.blobSize(blobId);
        }

        @Override
        public void read(long offset, byte[] dst, int dstOff, int len) throws IOException {
            backend.read(blobId, offset, dst, dstOff, len, ReadPriority.ON_DEMAND);
        }
    }

    /** Lends a backend to a chunk source without letting it close the backend. */
    private record Unclosed(BlobBackend inner) implements BlobBackend {
        @Override
        public String type() {
            return inner.type();
        }

        @Override
        public long blobSize(String blobId) throws IOException {
            return inner.blobSize(blobId);
        }

        @Override
        public void read(String blobId, long offset, byte[] dst, int dstOff, int len, ReadPriority priority)
                throws IOException {
            inner.read(blobId, offset, dst, dstOff, len, priority);
        }

        @Override
        public io.nydus.blobcache.BackendMetrics metrics() {
            return inner.metrics();
        }

        @Override
        public void close() {
        }
    }
}
