package io.nydus.snapshotter;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.nydus.snapshotter.api.CleanupRequest;
import io.nydus.snapshotter.api.CommitSnapshotRequest;
import io.nydus.snapshotter.api.ListSnapshotsRequest;
import io.nydus.snapshotter.api.ListSnapshotsResponse;
import io.nydus.snapshotter.api.MountsRequest;
import io.nydus.snapshotter.api.MountsResponse;
import io.nydus.snapshotter.api.PrepareSnapshotRequest;
import io.nydus.snapshotter.api.PrepareSnapshotResponse;
import io.nydus.snapshotter.api.RemoveSnapshotRequest;
import io.nydus.snapshotter.api.StatSnapshotRequest;
import io.nydus.snapshotter.api.StatSnapshotResponse;
import io.nydus.snapshotter.api.UpdateSnapshotRequest;
import io.nydus.snapshotter.api.UpdateSnapshotResponse;
import io.nydus.snapshotter.api.UsageRequest;
import io.nydus.snapshotter.api.UsageResponse;
import io.nydus.snapshotter.api.ViewSnapshotRequest;
import io.nydus.snapshotter.api.ViewSnapshotResponse;

/**
 * Method descriptors of {@code containerd.services.snapshots.v1.Snapshots}, written out because protoc's grpc-java
 * plugin is not available here; grpc-java needs nothing more than these to serve or call the service.
 */
public final class SnapshotsGrpc {
    public static final String SERVICE = "containerd.services.snapshots.v1.Snapshots";

    public static final MethodDescriptor<PrepareSnapshotRequest, PrepareSnapshotResponse> PREPARE =
            unary("Prepare", PrepareSnapshotRequest.getDefaultInstance(), PrepareSnapshotResponse.getDefaultInstance());
    public static final MethodDescriptor<ViewSnapshotRequest, ViewSnapshotResponse> VIEW =
            unary("View", ViewSnapshotRequest.getDefaultInstance(), ViewSnapshotResponse.getDefaultInstance());
    public static final MethodDescriptor<MountsRequest, MountsResponse> MOUNTS =
            unary("Mounts", MountsRequest.getDefaultInstance(), MountsResponse.getDefaultInstance());
    public static final MethodDescriptor<CommitSnapshotRequest, Empty> COMMIT =
            unary("Commit", CommitSnapshotRequest.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<RemoveSnapshotRequest, Empty> REMOVE =
            unary("Remove", RemoveSnapshotRequest.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<StatSnapshotRequest, StatSnapshotResponse> STAT =
            unary("Stat", StatSnapshotRequest.getDefaultInstance(), StatSnapshotResponse.getDefaultInstance());
    public static final MethodDescriptor<UpdateSnapshotRequest, UpdateSnapshotResponse> UPDATE =
            unary("Update", UpdateSnapshotRequest.getDefaultInstance(), UpdateSnapshotResponse.getDefaultInstance());
    public static final MethodDescriptor<ListSnapshotsRequest, ListSnapshotsResponse> LIST =
            GrpcMethods.method(MethodDescriptor.MethodType.SERVER_STREAMING, SERVICE, "List",
                    ListSnapshotsRequest.getDefaultInstance(), ListSnapshotsResponse.getDefaultInstance());
    public static final MethodDescriptor<UsageRequest, UsageResponse> USAGE =
            unary("Usage", UsageRequest.getDefaultInstance(), UsageResponse.getDefaultInstance());
    public static final MethodDescriptor<CleanupRequest, Empty> CLEANUP =
            unary("Cleanup", CleanupRequest.getDefaultInstance(), Empty.getDefaultInstance());

    private SnapshotsGrpc() {
    }

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> unary(String name, Q req, R resp) {
        return GrpcMethods.unary(SERVICE, name, req, resp);
    }
}
