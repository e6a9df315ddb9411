package io.nydus.snapshotter;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.nydus.snapshotter.api.Info;
import io.nydus.snapshotter.api.ListSnapshotsResponse;
import io.nydus.snapshotter.api.MountsResponse;
import io.nydus.snapshotter.api.PrepareSnapshotResponse;
import io.nydus.snapshotter.api.StatSnapshotResponse;
import io.nydus.snapshotter.api.UpdateSnapshotResponse;
import io.nydus.snapshotter.api.UsageResponse;
import io.nydus.snapshotter.api.ViewSnapshotResponse;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/** Binds {@link Snapshotter} to the gRPC service, translating messages and errors as containerd expects them. */
public final class SnapshotsService {
    /** containerd sends List results in batches too; keeps each message far below gRPC's 4 MiB default. */
    private static final int LIST_BATCH = 100;

    private final Snapshotter snapshotter;

    public SnapshotsService(Snapshotter snapshotter) {
        this.snapshotter = snapshotter;
    }

    public ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(SnapshotsGrpc.SERVICE)
                .addMethod(SnapshotsGrpc.PREPARE, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () ->
                        PrepareSnapshotResponse.newBuilder().addAllMounts(toProto(
                                snapshotter.prepare(req.getKey(), req.getParent(), req.getLabelsMap()))).build())))
                .addMethod(SnapshotsGrpc.VIEW, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () ->
                        ViewSnapshotResponse.newBuilder().addAllMounts(toProto(
                                snapshotter.view(req.getKey(), req.getParent(), req.getLabelsMap()))).build())))
                .addMethod(SnapshotsGrpc.MOUNTS, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () ->
                        MountsResponse.newBuilder().addAllMounts(toProto(snapshotter.mounts(req.getKey()))).build())))
                .addMethod(SnapshotsGrpc.COMMIT, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () -> {
                    snapshotter.commit(req.getName(), req.getKey(), req.getLabelsMap());
                    return Empty.getDefaultInstance();
                })))
                .addMethod(SnapshotsGrpc.REMOVE, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () -> {
                    snapshotter.remove(req.getKey());
                    return Empty.getDefaultInstance();
                })))
                .addMethod(SnapshotsGrpc.STAT, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () ->
                        StatSnapshotResponse.newBuilder().setInfo(toProto(snapshotter.stat(req.getKey()))).build())))
                .addMethod(SnapshotsGrpc.UPDATE, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () ->
                        UpdateSnapshotResponse.newBuilder().setInfo(toProto(snapshotter.update(req.getInfo().getName(),
                                req.getInfo().getLabelsMap(), req.getUpdateMask().getPathsList()))).build())))
                .addMethod(SnapshotsGrpc.LIST, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    try {
                        List<Snapshot> all = snapshotter.list(req.getFiltersList());
                        for (int i = 0; i < all.size(); i += LIST_BATCH) {
                            ListSnapshotsResponse.Builder b = ListSnapshotsResponse.newBuilder();
                            for (Snapshot s : all.subList(i, Math.min(all.size(), i + LIST_BATCH))) {
                                b.addInfo(toProto(s));
                            }
                            out.onNext(b.build());
                        }
                        out.onCompleted();
                    } catch (RuntimeException e) {
                        out.onError(toStatus(e));
                    }
                }))
                .addMethod(SnapshotsGrpc.USAGE, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () -> {
                    FileTree.Usage u = snapshotter.usage(req.getKey());
                    return UsageResponse.newBuilder().setSize(u.size()).setInodes(u.inodes()).build();
                })))
                .addMethod(SnapshotsGrpc.CLEANUP, ServerCalls.asyncUnaryCall((req, out) -> answer(out, () -> {
                    snapshotter.cleanup();
                    return Empty.getDefaultInstance();
                })))
                .build();
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (RuntimeException e) {
            out.onError(toStatus(e));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    static StatusRuntimeException toStatus(RuntimeException e) {
        if (e instanceof SnapshotException se) {
            Status status = switch (se.code()) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                case UNAVAILABLE -> Status.UNAVAILABLE;
                case INTERNAL -> Status.INTERNAL;
            };
            if (se.code() == SnapshotException.Code.INTERNAL) {
                Log.error("%s", describe(se));
            } else {
                Log.debug("%s: %s", se.code(), se.getMessage());
            }
            return status.withDescription(se.getMessage()).asRuntimeException();
        }
        Log.error("unexpected: %s", describe(e));
        return Status.INTERNAL.withDescription(String.valueOf(e)).asRuntimeException();
    }

    private static String describe(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            b.append(": ").append(c);
        }
        if (Log.enabled(Log.Level.DEBUG)) {
            java.io.StringWriter w = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(w));
            b.append('\n').append(w);
        }
        return b.toString();
    }

    static List<io.nydus.snapshotter.api.types.Mount> toProto(List<Mount> mounts) {
        return mounts.stream().map(m -> io.nydus.snapshotter.api.types.Mount.newBuilder().setType(m.type())
                .setSource(m.source()).addAllOptions(m.options()).build()).toList();
    }

    static Info toProto(Snapshot s) {
        return Info.newBuilder().setName(s.name()).setParent(s.parent())
                .setKindValue(s.kind().number())
                .setCreatedAt(timestamp(s.created())).setUpdatedAt(timestamp(s.updated()))
                .putAllLabels(s.labels()).build();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
