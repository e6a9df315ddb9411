package io.nydus.snapshotter;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/** Method descriptors written out by hand: protoc's grpc-java plugin is not available here. */
public final class GrpcMethods {
    private GrpcMethods() {
    }

    /** A unary method {@code service/name} taking {@code req}'s type and answering {@code resp}'s. */
    public static <Q extends Message, R extends Message> MethodDescriptor<Q, R> unary(String service, String name,
            Q req, R resp) {
        return method(MethodDescriptor.MethodType.UNARY, service, name, req, resp);
    }

    /** A method of any {@code type} (streaming ones too), named and typed like {@link #unary}. */
    public static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(MethodDescriptor.MethodType type,
            String service, String name, Q req, R resp) {
        return MethodDescriptor.<Q, R>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
                .setRequestMarshaller(ProtoUtils.marshaller(req))
                .setResponseMarshaller(ProtoUtils.marshaller(resp))
                .build();
    }
}
