package io.nydus.nydusify;

import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.backend.RegistryBackend;
import io.nydus.blobcache.registry.BlobSource;
import io.nydus.blobcache.registry.Manifest;
import io.nydus.blobcache.registry.RegistryClient;
import io.nydus.blobcache.registry.StreamedUpload;
import io.nydus.nydusify.oci.Descriptor;
import io.nydus.nydusify.oci.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;

/** A repository of an OCI distribution registry, through the project's one registry client. */
public final class RegistryStore implements ImageStore {
    private final RegistryClient client;
    private final String host;
    private final String repo;

    public RegistryStore(RegistryClient client, String host, String repo) {
        this.client = client;
        this.host = host;
        this.repo = repo;
    }

    @Override
    public String describe() {
        return "registry " + host + " repo " + repo;
    }

    @Override
    public Manifest manifest(String reference) throws IOException {
        return client.getManifest(repo, reference);
    }

    @Override
    public InputStream openBlob(Descriptor blob) throws IOException {
        return client.openBlob(repo, blob.digest);
    }

    @Override
    public long blobSize(String digest) throws IOException {
        return client.blobSize(repo, digest);
    }

    @Override
    public boolean hasBlob(String digest) throws IOException {
        return client.blobExists(repo, digest);
    }

    @Override
    public PushOutcome pushBlob(Descriptor blob, BlobSource source, ImageStore from) throws IOException {
        String mountFrom = from instanceof RegistryStore r && r.host.equals(host) && !r.repo.equals(repo)
                ? r.repo : null;
        return client.pushBlob(repo, blob.digest, source, mountFrom) ? PushOutcome.MOUNTED : PushOutcome.UPLOADED;
    }

    @Override
    public StreamedUpload startStreamedUpload(Flow.Publisher<ByteBuffer> body) throws IOException {
        return client.startStreamedUpload(repo, body);
    }

    @Override
    public void pushManifest(String mediaType, byte[] bytes) throws IOException {
        client.putManifest(repo, Digests.sha256(bytes), mediaType, bytes);
    }

    @Override
    public void tag(String tag, Descriptor manifest, byte[] bytes) throws IOException {
        client.putManifest(repo, tag == null ? manifest.digest : tag, manifest.mediaType, bytes);
    }

    @Override
    public BlobBackend backend() {
        return new RegistryBackend(client, repo);
    }

    @Override
    public void close() {
        client.close();
    }
}
