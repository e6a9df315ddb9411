package io.nydus.snapshotter;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.nydus.snapshotter.api.CleanupRequest;
import io.nydus.snapshotter.api.CommitSnapshotRequest;
import io.nydus.snapshotter.api.Info;
import io.nydus.snapshotter.api.ListSnapshotsRequest;
import io.nydus.snapshotter.api.MountsRequest;
import io.nydus.snapshotter.api.PrepareSnapshotRequest;
import io.nydus.snapshotter.api.RemoveSnapshotRequest;
import io.nydus.snapshotter.api.StatSnapshotRequest;
import io.nydus.snapshotter.api.UpdateSnapshotRequest;
import io.nydus.snapshotter.api.UsageRequest;
import io.nydus.snapshotter.api.UsageResponse;
import io.nydus.snapshotter.api.ViewSnapshotRequest;
import io.nydus.snapshotter.api.types.Mount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A client of {@code containerd.services.snapshots.v1.Snapshots} talking to the snapshotter's socket directly. */
final class SnapshotsClient implements AutoCloseable {
    private final UnixGrpcClient client;
    private final Channel calls;

    private SnapshotsClient(UnixGrpcClient client) {
        this.client = client;
        this.calls = client.channel(Map.of());
    }

    static SnapshotsClient direct(Path socket) {
        return new SnapshotsClient(UnixGrpcClient.open(socket));
    }

    private <Q, R> R call(MethodDescriptor<Q, R> m, Q req) {
        return ClientCalls.blockingUnaryCall(calls, m, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), req);
    }

    List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return call(SnapshotsGrpc.PREPARE, PrepareSnapshotRequest.newBuilder()
                .setKey(key).setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    List<Mount> view(String key, String parent, Map<String, String> labels) {
        return call(SnapshotsGrpc.VIEW, ViewSnapshotRequest.newBuilder()
                .setKey(key).setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    List<Mount> mounts(String key) {
        return call(SnapshotsGrpc.MOUNTS, MountsRequest.newBuilder().setKey(key).build())
                .getMountsList();
    }

    void commit(String name, String key, Map<String, String> labels) {
        call(SnapshotsGrpc.COMMIT, CommitSnapshotRequest.newBuilder().setName(name)
                .setKey(key).putAllLabels(labels).build());
    }

    void remove(String key) {
        call(SnapshotsGrpc.REMOVE, RemoveSnapshotRequest.newBuilder().setKey(key).build());
    }

    Info stat(String key) {
        return call(SnapshotsGrpc.STAT, StatSnapshotRequest.newBuilder().setKey(key)
                .build()).getInfo();
    }

    Info update(Info info, String... paths) {
        UpdateSnapshotRequest.Builder b = UpdateSnapshotRequest.newBuilder().setInfo(info);
        if (paths.length > 0) {
            b.setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addAllPaths(List.of(paths)));
        }
        return call(SnapshotsGrpc.UPDATE, b.build()).getInfo();
    }

    UsageResponse usage(String key) {
        return call(SnapshotsGrpc.USAGE, UsageRequest.newBuilder().setKey(key).build());
    }

    List<Info> list(String... filters) {
        List<Info> all = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(calls, SnapshotsGrpc.LIST, CallOptions.DEFAULT.withDeadlineAfter(60,
                TimeUnit.SECONDS), ListSnapshotsRequest.newBuilder()
                .addAllFilters(List.of(filters)).build()).forEachRemaining(r -> all.addAll(r.getInfoList()));
        return all;
    }

    void cleanup() {
        call(SnapshotsGrpc.CLEANUP, CleanupRequest.newBuilder().build());
    }

    @Override
    public void close() {
        client.close();
    }
}
