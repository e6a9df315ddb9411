package io.nydus.snapshotter;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC client connection on a unix domain socket (the counterpart of {@link UnixGrpcServer}). containerd scopes
 * calls by request headers (namespace, lease), so calls go through {@link #channel(Map)}, which sends the given
 * headers with each of them.
 */
public final class UnixGrpcClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final EventLoopGroup group;

    private UnixGrpcClient(ManagedChannel channel, EventLoopGroup group) {
        this.channel = channel;
        this.group = group;
    }

    /** Connects lazily: a missing socket shows as UNAVAILABLE on the first call. */
    public static UnixGrpcClient open(Path socket) {
        EventLoopGroup group = new EpollEventLoopGroup(1);
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext()
                // containerd answers with up to 16 MiB (its own limit); a large List of snapshots or content fits
                .maxInboundMessageSize(16 << 20).build();
        return new UnixGrpcClient(ch, group);
    }

    /** The connection with {@code headers} added to every call. */
    public Channel channel(Map<String, String> headers) {
        if (headers.isEmpty()) {
            return channel;
        }
        Metadata md = new Metadata();
        headers.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
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
