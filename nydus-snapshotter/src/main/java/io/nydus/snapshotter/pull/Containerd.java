package io.nydus.snapshotter.pull;

import com.google.protobuf.FieldMask;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.nydus.snapshotter.SnapshotsGrpc;
import io.nydus.snapshotter.UnixGrpcClient;
import io.nydus.snapshotter.api.CommitSnapshotRequest;
import io.nydus.snapshotter.api.PrepareSnapshotRequest;
import io.nydus.snapshotter.api.RemoveSnapshotRequest;
import io.nydus.snapshotter.api.StatSnapshotRequest;
import io.nydus.snapshotter.api.content.Info;
import io.nydus.snapshotter.api.content.InfoRequest;
import io.nydus.snapshotter.api.content.UpdateRequest;
import io.nydus.snapshotter.api.diff.ApplyRequest;
import io.nydus.snapshotter.api.images.CreateImageRequest;
import io.nydus.snapshotter.api.images.Image;
import io.nydus.snapshotter.api.images.UpdateImageRequest;
import io.nydus.snapshotter.api.leases.AddResourceRequest;
import io.nydus.snapshotter.api.leases.CreateRequest;
import io.nydus.snapshotter.api.leases.DeleteRequest;
import io.nydus.snapshotter.api.leases.Resource;
import io.nydus.snapshotter.api.types.Descriptor;
import io.nydus.snapshotter.api.types.Mount;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * containerd as a pull uses it, over its gRPC socket: content, image, lease, snapshot and diff services. Every call
 * carries the namespace ({@code containerd-namespace}); after {@link #withLease} also the lease
 * ({@code containerd-lease}), which keeps everything the calls create from containerd's garbage collector until
 * the image record references it. Failures are {@link ContainerdException}s naming what was asked.
 */
public final class Containerd implements AutoCloseable {
    private static final String NAMESPACE_HEADER = "containerd-namespace";
    private static final String LEASE_HEADER = "containerd-lease";
    /** containerd's lease label: after this time the lease is collected even if the pull never deletes it. */
    private static final String LEASE_EXPIRE = "containerd.io/gc.expire";
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(2);
    /** Unpacking a layer takes as long as the layer is large. */
    private static final Duration APPLY_TIMEOUT = Duration.ofHours(1);

    private final UnixGrpcClient client;
    private final Path socket;
    private final String namespace;
    private final Channel calls;

    private Containerd(UnixGrpcClient client, Path socket, String namespace, String lease) {
        this.client = client;
        this.socket = socket;
        this.namespace = namespace;
        this.calls = client.channel(lease == null ? Map.of(NAMESPACE_HEADER, namespace)
                : Map.of(NAMESPACE_HEADER, namespace, LEASE_HEADER, lease));
    }

    /** Connects to containerd's socket; IOException at once when there is no socket. */
    public static Containerd connect(Path socket, String namespace) throws IOException {
        if (!Files.exists(socket)) {
            throw new IOException("containerd socket " + socket + " does not exist (is containerd running? --address)");
        }
        return new Containerd(UnixGrpcClient.open(socket), socket, namespace, null);
    }

    /** The same connection with every call held by lease {@code id}; closing it closes the connection. */
    Containerd withLease(String id) {
        return new Containerd(client, socket, namespace, id);
    }

    // --------------------------------------------------------------------------------------------------- leases

    /** Creates lease {@code id} that containerd collects by itself after {@code expiry} (a killed pull leaves none). */
    void createLease(String id, Duration expiry) throws ContainerdException {
        String expire = DateTimeFormatter.ISO_INSTANT.format(Instant.now().plus(expiry));
        call("create lease " + id, ContainerdGrpc.LEASE_CREATE, CreateRequest.newBuilder().setId(id)
                .putLabels(LEASE_EXPIRE, expire).build(), CALL_TIMEOUT);
    }

    /** Deletes a lease: what it alone kept alive becomes garbage. */
    void deleteLease(String id) throws ContainerdException {
        call("delete lease " + id, ContainerdGrpc.LEASE_DELETE, DeleteRequest.newBuilder().setId(id).build(),
                CALL_TIMEOUT);
    }

    /** Adds content that already existed to lease {@code id}, so it cannot go while the pull refers to it. */
    void leaseContent(String id, String digest) throws ContainerdException {
        call("add " + digest + " to lease " + id, ContainerdGrpc.LEASE_ADD_RESOURCE, AddResourceRequest.newBuilder()
                .setId(id).setResource(Resource.newBuilder().setId(digest).setType("content")).build(), CALL_TIMEOUT);
    }

    // -------------------------------------------------------------------------------------------------- content

    /** The content store's record of a blob, if it has the blob. */
    Optional<Info> contentInfo(String digest) throws ContainerdException {
        try {
            return Optional.of(call("content info " + digest, ContainerdGrpc.CONTENT_INFO,
                    InfoRequest.newBuilder().setDigest(digest).build(), CALL_TIMEOUT).getInfo());
        } catch (ContainerdException e) {
            if (e.code() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Sets these labels of a stored blob, leaving its other labels alone. */
    void labelContent(String digest, Map<String, String> labels) throws ContainerdException {
        if (labels.isEmpty()) {
            return;
        }
        FieldMask.Builder mask = FieldMask.newBuilder();
        labels.keySet().forEach(k -> mask.addPaths("labels." + k));
        call("label content " + digest, ContainerdGrpc.CONTENT_UPDATE, UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(digest).putAllLabels(labels)).setUpdateMask(mask).build(),
                CALL_TIMEOUT);
    }

    /**
     * Streams a blob into the content store under ingest {@code ref} and commits it with {@code labels}.
     *
     * @return false when containerd had it already (then the labels were not set)
     */
    boolean writeContent(String ref, Descriptor desc, InputStream data, Map<String, String> labels)
            throws IOException {
        try {
            return ContentWriter.write(calls, ref, desc, data, labels);
        } catch (StatusRuntimeException e) {
            throw failure("write " + desc.getDigest() + " to the content store", e);
        }
    }

    // ------------------------------------------------------------------------------------------------ snapshots

    List<Mount> prepare(String snapshotter, String key, String parent, Map<String, String> labels)
            throws ContainerdException {
        return call("prepare snapshot " + key, SnapshotsGrpc.PREPARE, PrepareSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setKey(key).setParent(parent).putAllLabels(labels).build(), CALL_TIMEOUT)
                .getMountsList();
    }

    void commit(String snapshotter, String name, String key, Map<String, String> labels) throws ContainerdException {
        call("commit snapshot " + name, SnapshotsGrpc.COMMIT, CommitSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setName(name).setKey(key).putAllLabels(labels).build(), CALL_TIMEOUT);
    }

    boolean snapshotExists(String snapshotter, String key) throws ContainerdException {
        try {
            call("stat snapshot " + key, SnapshotsGrpc.STAT, StatSnapshotRequest.newBuilder()
                    .setSnapshotter(snapshotter).setKey(key).build(), CALL_TIMEOUT);
            return true;
        } catch (ContainerdException e) {
            if (e.code() == Status.Code.NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    void removeSnapshot(String snapshotter, String key) throws ContainerdException {
        call("remove snapshot " + key, SnapshotsGrpc.REMOVE, RemoveSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setKey(key).build(), CALL_TIMEOUT);
    }

    // ------------------------------------------------------------------------------------------- diff and images

    /** containerd unpacks a layer from its content store onto the mounts; returns the uncompressed layer. */
    Descriptor apply(Descriptor layer, List<Mount> mounts) throws ContainerdException {
        return call("unpack layer " + layer.getDigest(), ContainerdGrpc.DIFF_APPLY, ApplyRequest.newBuilder()
                .setDiff(layer).addAllMounts(mounts).build(), APPLY_TIMEOUT).getApplied();
    }

    /** Creates the image record {@code name} → {@code target}, or points an existing one at {@code target}. */
    void putImage(String name, Descriptor target) throws ContainerdException {
        Image image = Image.newBuilder().setName(name).setTarget(target).build();
        try {
            call("create image " + name, ContainerdGrpc.IMAGE_CREATE, CreateImageRequest.newBuilder().setImage(image)
                    .build(), CALL_TIMEOUT);
        } catch (ContainerdException e) {
            if (e.code() != Status.Code.ALREADY_EXISTS) {
                throw e;
            }
            call("update image " + name, ContainerdGrpc.IMAGE_UPDATE, UpdateImageRequest.newBuilder().setImage(image)
                    .setUpdateMask(FieldMask.newBuilder().addPaths("target")).build(), CALL_TIMEOUT);
        }
    }

    private <Q, R> R call(String what, MethodDescriptor<Q, R> method, Q request, Duration timeout)
            throws ContainerdException {
        try {
            return ClientCalls.blockingUnaryCall(calls, method,
                    CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), request);
        } catch (StatusRuntimeException e) {
            throw failure(what, e);
        }
    }

    private ContainerdException failure(String what, StatusRuntimeException e) {
        Status s = e.getStatus();
        String detail = s.getDescription() != null ? s.getDescription() : s.getCode().toString();
        if (s.getCode() == Status.Code.UNAVAILABLE && s.getCause() != null) {
            detail = "cannot reach containerd at " + socket + ": " + s.getCause().getMessage();
        }
        return new ContainerdException(what + ": " + detail, s.getCode(), e);
    }

    @Override
    public void close() {
        client.close();
    }
}
