package io.nydus.snapshotter;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Channel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
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

/**
 * A client of {@code containerd.services.snapshots.v1.Snapshots} over a unix socket: talks to the snapshotter
 * directly, or to containerd's own snapshots service (then {@code snapshotter} names the proxy plugin and the
 * namespace and lease travel as containerd's gRPC headers).
 */
final class SnapshotsClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final EventLoopGroup group;
    private final Channel calls;
    private final String snapshotter;

    private SnapshotsClient(ManagedChannel channel, EventLoopGroup group, Channel calls, String snapshotter) {
        this.channel = channel;
        this.group = group;
        this.calls = calls;
        this.snapshotter = snapshotter;
    }

    static SnapshotsClient direct(Path socket) {
        return connect(socket, "", Map.of());
    }

    /** A client of containerd's snapshots service for snapshotter {@code name} in {@code namespace}. */
    static SnapshotsClient containerd(Path socket, String name, String namespace, String lease) {
        Map<String, String> headers = new java.util.HashMap<>();
        headers.put("containerd-namespace", namespace);
        if (lease != null) {
            headers.put("containerd-lease", lease);
        }
        return connect(socket, name, headers);
    }

    private static SnapshotsClient connect(Path socket, String name, Map<String, String> headers) {
        EventLoopGroup group = new EpollEventLoopGroup(1);
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
        Metadata md = new Metadata();
        headers.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        Channel calls = ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(md));
        return new SnapshotsClient(ch, group, calls, name);
    }

    private <Q, R> R call(MethodDescriptor<Q, R> m, Q req) {
        return ClientCalls.blockingUnaryCall(calls, m, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), req);
    }

    List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return call(SnapshotsGrpc.PREPARE, PrepareSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setKey(key).setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    List<Mount> view(String key, String parent, Map<String, String> labels) {
        return call(SnapshotsGrpc.VIEW, ViewSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setKey(key).setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    List<Mount> mounts(String key) {
        return call(SnapshotsGrpc.MOUNTS, MountsRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build())
                .getMountsList();
    }

    void commit(String name, String key, Map<String, String> labels) {
        call(SnapshotsGrpc.COMMIT, CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setName(name)
                .setKey(key).putAllLabels(labels).build());
    }

    void remove(String key) {
        call(SnapshotsGrpc.REMOVE, RemoveSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
    }

    Info stat(String key) {
        return call(SnapshotsGrpc.STAT, StatSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key)
                .build()).getInfo();
    }

    Info update(Info info, String... paths) {
        UpdateSnapshotRequest.Builder b = UpdateSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setInfo(info);
        if (paths.length > 0) {
            b.setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addAllPaths(List.of(paths)));
        }
        return call(SnapshotsGrpc.UPDATE, b.build()).getInfo();
    }

    UsageResponse usage(String key) {
        return call(SnapshotsGrpc.USAGE, UsageRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
    }

    List<Info> list(String... filters) {
        List<Info> all = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(calls, SnapshotsGrpc.LIST, CallOptions.DEFAULT.withDeadlineAfter(60,
                TimeUnit.SECONDS), ListSnapshotsRequest.newBuilder().setSnapshotter(snapshotter)
                .addAllFilters(List.of(filters)).build()).forEachRemaining(r -> all.addAll(r.getInfoList()));
        return all;
    }

    void cleanup() {
        call(SnapshotsGrpc.CLEANUP, CleanupRequest.newBuilder().setSnapshotter(snapshotter).build());
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
