package io.nydus.snapshotter.pull;

import static io.nydus.snapshotter.GrpcMethods.unary;

import com.google.protobuf.Empty;
import io.grpc.MethodDescriptor;
import io.nydus.snapshotter.GrpcMethods;
import io.nydus.snapshotter.api.content.InfoRequest;
import io.nydus.snapshotter.api.content.InfoResponse;
import io.nydus.snapshotter.api.content.UpdateRequest;
import io.nydus.snapshotter.api.content.UpdateResponse;
import io.nydus.snapshotter.api.content.WriteContentRequest;
import io.nydus.snapshotter.api.content.WriteContentResponse;
import io.nydus.snapshotter.api.diff.ApplyRequest;
import io.nydus.snapshotter.api.diff.ApplyResponse;
import io.nydus.snapshotter.api.images.CreateImageRequest;
import io.nydus.snapshotter.api.images.CreateImageResponse;
import io.nydus.snapshotter.api.images.UpdateImageRequest;
import io.nydus.snapshotter.api.images.UpdateImageResponse;
import io.nydus.snapshotter.api.leases.AddResourceRequest;
import io.nydus.snapshotter.api.leases.CreateRequest;
import io.nydus.snapshotter.api.leases.CreateResponse;
import io.nydus.snapshotter.api.leases.DeleteRequest;

/**
 * Method descriptors of the containerd services a pull calls besides snapshots (content, images, leases, diff),
 * written out like {@link io.nydus.snapshotter.SnapshotsGrpc} because protoc's grpc-java plugin is not available.
 */
final class ContainerdGrpc {
    private static final String CONTENT = "containerd.services.content.v1.Content";
    private static final String IMAGES = "containerd.services.images.v1.Images";
    private static final String LEASES = "containerd.services.leases.v1.Leases";
    private static final String DIFF = "containerd.services.diff.v1.Diff";

    static final MethodDescriptor<InfoRequest, InfoResponse> CONTENT_INFO =
            unary(CONTENT, "Info", InfoRequest.getDefaultInstance(), InfoResponse.getDefaultInstance());
    static final MethodDescriptor<UpdateRequest, UpdateResponse> CONTENT_UPDATE =
            unary(CONTENT, "Update", UpdateRequest.getDefaultInstance(), UpdateResponse.getDefaultInstance());
    static final MethodDescriptor<WriteContentRequest, WriteContentResponse> CONTENT_WRITE =
            GrpcMethods.method(MethodDescriptor.MethodType.BIDI_STREAMING, CONTENT, "Write",
                    WriteContentRequest.getDefaultInstance(), WriteContentResponse.getDefaultInstance());
    static final MethodDescriptor<CreateImageRequest, CreateImageResponse> IMAGE_CREATE =
            unary(IMAGES, "Create", CreateImageRequest.getDefaultInstance(), CreateImageResponse.getDefaultInstance());
    static final MethodDescriptor<UpdateImageRequest, UpdateImageResponse> IMAGE_UPDATE =
            unary(IMAGES, "Update", UpdateImageRequest.getDefaultInstance(), UpdateImageResponse.getDefaultInstance());
    static final MethodDescriptor<CreateRequest, CreateResponse> LEASE_CREATE =
            unary(LEASES, "Create", CreateRequest.getDefaultInstance(), CreateResponse.getDefaultInstance());
    static final MethodDescriptor<DeleteRequest, Empty> LEASE_DELETE =
            unary(LEASES, "Delete", DeleteRequest.getDefaultInstance(), Empty.getDefaultInstance());
    static final MethodDescriptor<AddResourceRequest, Empty> LEASE_ADD_RESOURCE =
            unary(LEASES, "AddResource", AddResourceRequest.getDefaultInstance(), Empty.getDefaultInstance());
    static final MethodDescriptor<ApplyRequest, ApplyResponse> DIFF_APPLY =
            unary(DIFF, "Apply", ApplyRequest.getDefaultInstance(), ApplyResponse.getDefaultInstance());

    private ContainerdGrpc() {
    }
}
