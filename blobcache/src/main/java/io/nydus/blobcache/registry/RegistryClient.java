package io.nydus.blobcache.registry;

import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.registry.DragonflyProxy.Route;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The project's one client of the OCI distribution API: blob reads for the registry backend (HEAD, ranged GET,
 * streamed GET) and the pull/push calls nydusify needs (blob upload and cross-repository mount, manifest GET/PUT).
 * One instance per registry host, safe for concurrent use; connections are pooled by the JDK {@link HttpClient}.
 *
 * <p>Every request goes through one loop ({@link #execute}) that handles, in this order: the Dragonfly proxy route
 * for blob reads, authorization (configured Basic/Bearer credentials; on 401 the {@code WWW-Authenticate} challenge
 * is followed and bearer tokens are cached per scope and renewed before they expire), redirects (followed by hand so
 * that blob URLs can be rewritten and cached), and retries with exponential backoff for connection errors, 5xx
 * answers, stalled and truncated bodies. Failures are {@link RegistryException}s with a one-line message naming the
 * host, repository, object, HTTP status and registry error code.
 */
public final class RegistryClient implements AutoCloseable {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String MANIFEST_ACCEPT = String.join(", ", OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST,
            DOCKER_MANIFEST_LIST);
    static final String HEADER_DIGEST = "Docker-Content-Digest";

    private static final System.Logger LOG = System.getLogger(RegistryClient.class.getName());
    private static final int MAX_REDIRECTS = 5;
    /** The distribution registry refuses manifests above 4 MiB; twice that is surely not a manifest. */
    private static final int MAX_MANIFEST = 8 << 20;
    private static final int MAX_ERROR_BODY = 16 << 10;
    private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+");
    private static final Pattern REPO = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");

    private final RegistrySettings settings;
    private final SSLContext ssl;
    private final HttpClient http;
    private final TokenEndpoint tokenEndpoint;
    private final BearerTokenCache tokens = new BearerTokenCache();
    private final RetryBackoff backoff;
    /** Blob digest → where the registry redirected its GET last time. */
    private final Map<String, URI> redirects = new ConcurrentHashMap<>();
    /** Scopes we ask for → scopes the registry's challenge asked for, when they differ. */
    private final Map<Set<String>, Set<String>> scopeAliases = new ConcurrentHashMap<>();
    private volatile RegistryCredentials credentials;
    private volatile boolean registryTokenRejected;
    private volatile AuthChallenge challenge;
    private volatile String scheme;
    private volatile DragonflyProxy proxy;
    /** The fast data path of range reads; the general path below handles every other case. */
    private final RangeConnections rangeConnections;
    /** The headers every fast-path read starts with: User-Agent and the configured extra headers. */
    private final Map<String, String> fastReadHeaders;

    public RegistryClient(RegistrySettings settings) throws IOException {
        this.settings = settings;
        this.scheme = settings.scheme();
        this.credentials = settings.credentials();
        this.ssl = TlsTrust.sslContext(settings.skipVerify(), settings.caCertFiles());
        this.http = newHttpClient(settings.connectTimeout(), ssl, null);
        this.tokenEndpoint = new TokenEndpoint(http, settings.timeout(), settings.userAgent());
        this.backoff = new RetryBackoff(settings.retryBackoff());
        this.proxy = settings.proxy() == null ? null : newProxy(settings.proxy());
        this.rangeConnections = new RangeConnections(ssl, !settings.skipVerify(), (int) settings.timeout().toMillis(),
                (int) settings.connectTimeout().toMillis());
        Map<String, String> h = new LinkedHashMap<>();
        h.put("User-Agent", settings.userAgent());
        h.putAll(settings.extraHeaders());
        this.fastReadHeaders = Collections.unmodifiableMap(h);
    }

    /**
     * An HTTP/1.1 client that follows no redirects and runs its internal tasks on its own selector thread instead
     * of handing each step of every exchange to a thread pool: our body subscribers only copy bytes and never
     * block, and the hand-offs cost more than the copies (measured: about half the CPU time per 1 MiB range read).
     */
    static HttpClient newHttpClient(Duration connectTimeout, SSLContext ssl, java.net.ProxySelector proxy) {
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(connectTimeout).sslContext(ssl)
                .sslParameters(new javax.net.ssl.SSLParameters()) // explicit: the defaults would set TLS up now
                .executor(Runnable::run);
        if (proxy != null) {
            b.proxy(proxy);
        }
        return b.build();
    }

    private DragonflyProxy newProxy(ProxyConfig config) {
        return new DragonflyProxy(config, ssl, settings.connectTimeout(), http);
    }

    public RegistrySettings settings() {
        return settings;
    }

    /** "host[:port]" of the registry. */
    public String host() {
        return settings.host();
    }

    /** The Dragonfly proxy blob reads go through, or null. */
    public DragonflyProxy proxy() {
        return proxy;
    }

    /** Replaces the credentials (nydusd's {@code PUT /api/v1/config} {@code registry_auth}); drops cached tokens. */
    public void updateCredentials(RegistryCredentials c) {
        this.credentials = c;
        this.registryTokenRejected = false;
        tokens.clear();
    }

    /** Replaces the Dragonfly proxy ({@code proxy_url} at runtime); null turns it off. */
    public void updateProxy(ProxyConfig config) {
        DragonflyProxy old = proxy;
        proxy = config == null ? null : newProxy(config);
        if (old != null) {
            old.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ blob reads

    /** Size of a blob ({@code HEAD}, following redirects). */
    public long blobSize(String repo, String digest) throws IOException {
        return blobSize(repo, digest, ReadPriority.ON_DEMAND);
    }

    public long blobSize(String repo, String digest, ReadPriority priority) throws IOException {
        Call c = blobCall("HEAD", repo, digest, priority, "");
        c.redirectKey = null; // a HEAD is signed differently from a GET by object stores: not cached
        Reply r = execute(c);
        long n = r.headers.firstValueAsLong("Content-Length").orElse(-1);
        if (n < 0) {
            throw RegistryException.failed(c.what, "HEAD answer has no Content-Length", null);
        }
        return n;
    }

    /**
     * Reads exactly {@code len} bytes at {@code offset} of a blob into {@code dst[dstOff…]} with one ranged GET
     * ({@code Range: bytes=offset-(offset+len-1)}). A 200 answer carrying the whole blob is accepted (the bytes before
     * {@code offset} are skipped); a short body is retried and never returned.
     */
    public void readBlob(String repo, String digest, long offset, byte[] dst, int dstOff, int len,
            ReadPriority priority) throws IOException {
        if (offset < 0 || len < 0 || dstOff < 0 || dstOff + len > dst.length) {
            throw new IndexOutOfBoundsException("offset " + offset + ", len " + len + ", dst " + dstOff + "/" + dst.length);
        }
        if (len == 0) {
            return;
        }
        long last = offset + len - 1;
        Call c = blobCall("GET", repo, digest, priority, " bytes " + offset + "-" + last);
        c.headers.put("Range", "bytes=" + offset + "-" + last);
        if (proxy == null && fastRead(c, offset, dst, dstOff, len)) {
            return;
        }
        c.sink = (info, activity) -> rangeSink(info, offset, dst, dstOff, len, activity);
        execute(c);
    }

    /**
     * Tries the plain data path (see {@link RangeConnections}); false sends the read down the general path. Redirects
     * it meets are learnt (and followed once) here, and an expired cached blob URL is dropped, as the general path
     * would, so that neither path asks the registry twice for one read.
     */
    private boolean fastRead(Call c, long offset, byte[] dst, int dstOff, int len) {
        for (int hop = 0; hop < 2; hop++) {
            URI redirect = redirects.get(c.redirectKey);
            Map<String, String> h = new LinkedHashMap<>(fastReadHeaders);
            if (redirect == null) {
                String authz;
                try {
                    authz = authorization(c.scopes);
                } catch (IOException e) {
                    return false;
                }
                if (authz != null) {
                    h.put("Authorization", authz);
                }
            }
            h.putAll(c.headers);
            URI uri = redirect != null ? redirect : registryUri(c);
            RangeConnections.Answer a = rangeConnections.read(uri, h, offset, dst, dstOff, len);
            if (a.done()) {
                return true;
            }
            int st = a.status();
            if (redirect != null && (st == 401 || st == 403)) {
                redirects.remove(c.redirectKey, redirect);
                return false;
            }
            if (redirect == null && st >= 300 && st < 400 && st != 304 && a.location() != null) {
                try {
                    redirects.put(c.redirectKey, rewriteRedirect(uri, a.location(), c.what));
                } catch (IOException e) {
                    return false;
                }
                continue;
            }
            return false;
        }
        return false;
    }

    private static HttpResponse.BodySubscriber<Object> rangeSink(HttpResponse.ResponseInfo info, long offset, byte[] dst,
            int dstOff, int len, Activity activity) {
        long bodyLength = info.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (info.statusCode() == 206) {
            ContentRange r = ContentRange.parse(info.headers().firstValue("Content-Range").orElse(""));
            if (r == null) {
                return FailingSink.of(new IOException("206 answer without a valid Content-Range"));
            }
            if (r.total() >= 0 && r.total() < offset + len) {
                return FailingSink.of(new PastEndException("blob has " + r.total() + " bytes; bytes " + offset + "-"
                        + (offset + len - 1) + " are past its end"));
            }
            if (r.first() > offset || r.last() < offset + len - 1) {
                return FailingSink.of(new IOException("asked for bytes " + offset + "-" + (offset + len - 1)
                        + ", got Content-Range " + r.text()));
            }
            return new RangeSink(dst, dstOff, len, offset - r.first(), bodyLength, activity);
        }
        if (bodyLength >= 0 && bodyLength < offset + len) {
            return FailingSink.of(new PastEndException("blob has " + bodyLength + " bytes; bytes " + offset + "-"
                    + (offset + len - 1) + " are past its end"));
        }
        return new RangeSink(dst, dstOff, len, offset, bodyLength, activity);
    }

    /**
     * Streams a whole blob. The stream resumes broken transfers with ranged GETs (within the retry limit) and checks
     * the sha256 digest at EOF, failing with an IOException on mismatch. Close it when done.
     */
    public InputStream openBlob(String repo, String digest) throws IOException {
        return openBlob(repo, digest, ReadPriority.ON_DEMAND);
    }

    public InputStream openBlob(String repo, String digest, ReadPriority priority) throws IOException {
        String what = describeBlob(repo, digest, "");
        BlobStream.Opener opener = offset -> {
            Call c = blobCall("GET", repo, digest, priority, offset > 0 ? " from byte " + offset : "");
            if (offset > 0) {
                c.headers.put("Range", "bytes=" + offset + "-");
            }
            AtomicReference<Long> total = new AtomicReference<>(-1L);
            c.sink = (info, activity) -> {
                long skip = 0;
                if (info.statusCode() == 206) {
                    ContentRange r = ContentRange.parse(info.headers().firstValue("Content-Range").orElse(""));
                    if (r == null || r.first() != offset) {
                        return FailingSink.of(new IOException("unexpected Content-Range for a read from " + offset));
                    }
                    total.set(r.total());
                } else {
                    skip = offset;
                    total.set(info.headers().firstValueAsLong("Content-Length").orElse(-1));
                }
                return new StreamSink(skip);
            };
            c.retries = settings.retryLimit();
            Reply r = execute(c);
            return new BlobStream.Opened((StreamSink) r.body, total.get());
        };
        return new BlobStream(opener, what, digest, settings.timeout().toNanos(), settings.retryLimit(), backoff);
    }

    // ------------------------------------------------------------------------------------------------ push side

    /** Whether the repository has the blob ({@code HEAD}; a redirect counts as present). */
    public boolean blobExists(String repo, String digest) throws IOException {
        Call c = new Call("HEAD", describeBlob(repo, digest, ""), pushScopes(repo));
        c.path = checkRepo(repo) + "/blobs/" + checkDigest(digest);
        c.accept = st -> st == 404 || (st >= 300 && st < 400);
        c.defaultCode = "BLOB_UNKNOWN";
        Reply r = execute(c);
        return r.status != 404;
    }

    /**
     * Uploads a blob in one piece: {@code POST /v2/<repo>/blobs/uploads/} then {@code PUT <location>&digest=…}
     * streaming {@code source}. A failed upload is started again from the POST (within the retry limit).
     */
    public void pushBlob(String repo, String digest, BlobSource source) throws IOException {
        pushBlob(repo, digest, source, null);
    }

    /**
     * Like {@link #pushBlob(String, String, BlobSource)}, but first asks the registry to mount the blob from
     * {@code mountFrom} (another repository of the same registry); uploads only when the registry does not mount it,
     * into the upload session the mount request opened. True when the registry mounted the blob.
     */
    public boolean pushBlob(String repo, String digest, BlobSource source, String mountFrom) throws IOException {
        checkDigest(digest);
        URI location;
        if (mountFrom != null) {
            Reply r = mount(repo, digest, mountFrom);
            if (r.status == 201) {
                return true;
            }
            location = uploadLocation(r, describeBlob(repo, digest, " upload"));
        } else {
            location = startUpload(repo, describeBlob(repo, digest, " upload start"));
        }
        for (int attempt = 0;; attempt++) {
            try {
                putUpload(repo, digest, source, location);
                return false;
            } catch (RegistryException e) {
                boolean transientFailure = e.status() == 0 || e.status() >= 500;
                if (!transientFailure || attempt >= settings.retryLimit()) {
                    throw e;
                }
                LOG.log(Level.DEBUG, "upload of {0} failed, starting again: {1}", digest, e.getMessage());
                backoff.pause(attempt, null);
                location = startUpload(repo, describeBlob(repo, digest, " upload start"));
            }
        }
    }

    /**
     * Asks the registry to mount a blob from another repository ({@code POST …/uploads/?mount=&from=}). True when it
     * did (201); false when it started an upload instead (202), which is then cancelled.
     */
    public boolean mountBlob(String repo, String digest, String fromRepo) throws IOException {
        Reply r = mount(repo, digest, fromRepo);
        if (r.status == 201) {
            return true;
        }
        cancelUpload(repo, uploadLocation(r, describeBlob(repo, digest, " upload")));
        return false;
    }

    /**
     * Starts an upload whose bytes are sent while they are produced: {@code POST} opens the session, then one
     * {@code PATCH} streams {@code body} (chunked: its length is not known yet) until the publisher completes.
     * {@link StreamedUpload#finish} names the digest once every byte is sent. Nothing of it is retried, since the
     * bytes are gone once sent: when a streamed upload fails, the caller pushes the blob whole.
     */
    public StreamedUpload startStreamedUpload(String repo, Flow.Publisher<ByteBuffer> body) throws IOException {
        String what = "registry " + host() + " repo " + repo + " streamed blob upload";
        URI location = startUpload(repo, what + " start");
        Call c = new Call("PATCH", what, pushScopes(repo));
        c.absolute = location;
        c.retries = 0;
        c.headers.put("Content-Type", "application/octet-stream");
        AtomicBoolean sent = new AtomicBoolean();
        c.body = () -> {
            if (sent.getAndSet(true)) {
                throw new UncheckedIOException(new IOException(c.what + ": the bytes cannot be sent twice"));
            }
            return HttpRequest.BodyPublishers.fromPublisher(body);
        };
        c.defaultCode = "BLOB_UPLOAD_INVALID";
        CompletableFuture<URI> patched = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                patched.complete(uploadLocation(execute(c), c.what));
            } catch (IOException | RuntimeException e) {
                patched.completeExceptionally(e);
            }
        }, "blob-upload");
        t.setDaemon(true);
        t.start();
        return new StreamedUpload(this, repo, location, patched);
    }

    /** {@code PUT <location>&digest=…} without a body: the bytes already sent become the blob. */
    void commitUpload(String repo, String digest, URI location) throws IOException {
        Call c = new Call("PUT", describeBlob(repo, digest, " upload commit"), pushScopes(repo));
        c.absolute = withDigest(location, digest);
        c.retries = 0;
        c.body = HttpRequest.BodyPublishers::noBody;
        c.defaultCode = "BLOB_UPLOAD_INVALID";
        Reply r = execute(c);
        if (r.status != 201) {
            throw RegistryException.of(c.what, r.status, r.bytes());
        }
    }

    /** Deletes an upload session (best effort: an abandoned one expires on its own). */
    void cancelUpload(String repo, URI location) {
        Call cancel = new Call("DELETE", "registry " + host() + " repo " + repo + " upload cancel", pushScopes(repo));
        cancel.absolute = location;
        cancel.accept = st -> true;
        try {
            execute(cancel);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cancelling upload {0}: {1}", location, e.getMessage());
        }
    }

    private Reply mount(String repo, String digest, String fromRepo) throws IOException {
        checkRepo(fromRepo);
        Set<String> scopes = new LinkedHashSet<>(pushScopes(repo));
        scopes.add("repository:" + fromRepo + ":pull");
        Call c = new Call("POST", describeBlob(repo, digest, " mount from " + fromRepo), scopes);
        c.path = checkRepo(repo) + "/blobs/uploads/?mount=" + enc(checkDigest(digest)) + "&from=" + enc(fromRepo);
        c.body = HttpRequest.BodyPublishers::noBody;
        c.defaultCode = "BLOB_UNKNOWN";
        return execute(c);
    }

    private URI startUpload(String repo, String what) throws IOException {
        Call c = new Call("POST", what, pushScopes(repo));
        c.path = checkRepo(repo) + "/blobs/uploads/";
        c.body = HttpRequest.BodyPublishers::noBody;
        return uploadLocation(execute(c), c.what);
    }

    private URI uploadLocation(Reply r, String what) throws IOException {
        String loc = r.headers.firstValue("Location").orElse(null);
        if (r.status != 202 || loc == null) {
            throw RegistryException.failed(what, "HTTP " + r.status + " without an upload Location", null);
        }
        try {
            return r.uri.resolve(new URI(loc));
        } catch (URISyntaxException e) {
            throw RegistryException.failed(what, "bad upload Location '" + loc + "'", e);
        }
    }

    private void putUpload(String repo, String digest, BlobSource source, URI location) throws IOException {
        Call c = new Call("PUT", describeBlob(repo, digest, " upload"), pushScopes(repo));
        c.absolute = withDigest(location, digest);
        c.retries = 0; // a half-sent upload session cannot be reused; pushBlob starts a new one
        c.headers.put("Content-Type", "application/octet-stream");
        c.body = () -> HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
            try {
                return source.open();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }), source.size());
        c.defaultCode = "BLOB_UPLOAD_INVALID";
        Reply r = execute(c);
        if (r.status != 201) {
            throw RegistryException.of(c.what, r.status, r.bytes());
        }
    }

    private static URI withDigest(URI location, String digest) {
        String q = location.getRawQuery();
        return URI.create(location.toString() + (q == null || q.isEmpty() ? "?" : "&") + "digest=" + enc(digest));
    }

    /**
     * Fetches a manifest or index by tag or digest, accepting OCI and Docker schema 2 media types. A digest reference
     * is verified against the bytes.
     */
    public Manifest getManifest(String repo, String reference) throws IOException {
        Call c = new Call("GET", describeManifest(repo, reference), pullScopes(repo));
        c.path = checkRepo(repo) + "/manifests/" + checkReference(reference);
        c.headers.put("Accept", MANIFEST_ACCEPT);
        c.defaultCode = "MANIFEST_UNKNOWN";
        c.sink = (info, activity) -> new BufferedSink(MAX_MANIFEST, false, activity);
        Reply r = execute(c);
        byte[] bytes = r.bytes();
        String digest = sha256(bytes);
        if (reference.startsWith("sha256:") && !reference.equals(digest)) {
            throw RegistryException.failed(c.what, "content digest is " + digest, null);
        }
        String type = r.headers.firstValue("Content-Type").orElse("");
        int semi = type.indexOf(';');
        type = (semi < 0 ? type : type.substring(0, semi)).trim();
        return new Manifest(type, digest, bytes);
    }

    /** The digest of a manifest ({@code HEAD}), or empty when the registry does not have it. */
    public Optional<String> manifestDigest(String repo, String reference) throws IOException {
        Call c = new Call("HEAD", describeManifest(repo, reference), pullScopes(repo));
        c.path = checkRepo(repo) + "/manifests/" + checkReference(reference);
        c.headers.put("Accept", MANIFEST_ACCEPT);
        c.accept = st -> st == 404;
        c.defaultCode = "MANIFEST_UNKNOWN";
        Reply r = execute(c);
        if (r.status == 404) {
            return Optional.empty();
        }
        Optional<String> d = r.headers.firstValue(HEADER_DIGEST);
        if (d.isEmpty()) {
            return Optional.of(getManifest(repo, reference).digest());
        }
        return d;
    }

    /** Stores a manifest under a tag or its digest; returns its digest. */
    public String putManifest(String repo, String reference, String mediaType, byte[] body) throws IOException {
        String digest = sha256(body);
        if (reference.contains(":") && !reference.equals(digest)) {
            throw new IllegalArgumentException("manifest digest is " + digest + ", not " + reference);
        }
        Call c = new Call("PUT", describeManifest(repo, reference), pushScopes(repo));
        c.path = checkRepo(repo) + "/manifests/" + checkReference(reference);
        c.headers.put("Content-Type", mediaType);
        byte[] copy = body.clone();
        c.body = () -> HttpRequest.BodyPublishers.ofByteArray(copy);
        c.defaultCode = "MANIFEST_INVALID";
        Reply r = execute(c);
        if (r.status != 201 && r.status != 200) {
            throw RegistryException.of(c.what, r.status, r.bytes());
        }
        return r.headers.firstValue(HEADER_DIGEST).orElse(digest);
    }

    // ------------------------------------------------------------------------------------------------ the loop

    /** One logical request: what execute() needs to send it, authorize it, retry it and read its answer. */
    private static final class Call {
        final String method;
        final String what;
        final Set<String> scopes;
        final Map<String, String> headers = new LinkedHashMap<>();
        String path;
        URI absolute;
        SinkFactory sink;
        java.util.function.Supplier<HttpRequest.BodyPublisher> body;
        boolean blobRead;
        String redirectKey;
        boolean followRedirects;
        ReadPriority priority = ReadPriority.ON_DEMAND;
        IntPredicate accept = st -> false;
        String defaultCode;
        int retries = -1;

        Call(String method, String what, Set<String> scopes) {
            this.method = method;
            this.what = what;
            this.scopes = scopes;
        }
    }

    /** Makes the body subscriber of a 2xx answer. */
    private interface SinkFactory {
        HttpResponse.BodySubscriber<Object> create(HttpResponse.ResponseInfo info, Activity activity);
    }

    private static final class Reply {
        final int status;
        final HttpHeaders headers;
        final Object body;
        final URI uri;

        Reply(HttpResponse<Object> r) {
            this.status = r.statusCode();
            this.headers = r.headers();
            this.body = r.body();
            this.uri = r.uri();
        }

        byte[] bytes() {
            return body instanceof byte[] b ? b : new byte[0];
        }
    }

    private Call blobCall(String method, String repo, String digest, ReadPriority priority, String detail) {
        Call c = new Call(method, describeBlob(repo, digest, detail), pullScopes(repo));
        c.path = checkRepo(repo) + "/blobs/" + checkDigest(digest);
        c.blobRead = true;
        c.followRedirects = true;
        c.redirectKey = repo + "@" + digest;
        c.priority = priority;
        c.defaultCode = "BLOB_UNKNOWN";
        return c;
    }

    private Reply execute(Call c) throws IOException {
        int retryLimit = c.retries >= 0 ? c.retries : settings.retryLimit();
        int retries = 0;
        int hops = 0;
        boolean authRetried = false;
        boolean redirectRetried = false;
        boolean forceDirect = false;
        boolean throttled = false;
        boolean schemeSwitched = false;
        URI redirect = c.redirectKey != null ? redirects.get(c.redirectKey) : null;
        while (true) {
            boolean atRegistry = redirect == null;
            URI uri = atRegistry ? registryUri(c) : redirect;
            DragonflyProxy px = c.blobRead && !forceDirect ? proxy : null;
            Route route = px == null ? Route.DIRECT : throttled ? Route.DIRECT_LIMITED : px.route(c.priority, c.what);
            if (route == Route.DIRECT_LIMITED) {
                px.acquireDirect();
            }
            String authz = null;
            Reply reply;
            try {
                authz = atRegistry ? authorization(c.scopes) : null;
                reply = attempt(c, uri, route, px, authz);
            } catch (RegistryException e) {
                // the token server failed: retry only what looks transient
                if ((e.status() == 0 || e.status() >= 500) && retries < retryLimit) {
                    backoff.pause(retries++, null);
                    continue;
                }
                throw e;
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                if (e instanceof PastEndException) {
                    throw RegistryException.failed(c.what, e.getMessage(), e);
                }
                if (route == Route.PROXY) {
                    px.connectionFailed(e);
                    if (px.config().fallback()) {
                        LOG.log(Level.DEBUG, "{0} via Dragonfly proxy failed ({1}); reading directly", c.what,
                                TokenEndpoint.describe(e));
                        forceDirect = true;
                        continue;
                    }
                }
                if (!atRegistry && !redirectRetried) {
                    // the cached blob URL's host is gone: ask the registry where the blob is now, once
                    if (c.redirectKey != null) {
                        redirects.remove(c.redirectKey, redirect);
                    }
                    redirectRetried = true;
                    redirect = null;
                    continue;
                }
                if (settings.skipVerify() && atRegistry && !schemeSwitched && "https".equals(scheme) && isTlsFailure(e)) {
                    // upstream behaviour: with skip_verify a registry that does not speak TLS is used over http
                    LOG.log(Level.INFO, "registry {0} does not speak TLS; using http", host());
                    scheme = "http";
                    schemeSwitched = true;
                    continue;
                }
                if (retries < retryLimit) {
                    LOG.log(Level.DEBUG, "{0}: {1}; retry {2}", c.what, TokenEndpoint.describe(e), retries + 1);
                    backoff.pause(retries++, null);
                    continue;
                }
                throw RegistryException.failed(c.what, TokenEndpoint.describe(e) + via(route, px)
                        + (retries > 0 ? " (after " + retries + " retries)" : ""), e);
            }
            int st = reply.status;
            if (route == Route.PROXY) {
                if (st == 403 && "proxy".equalsIgnoreCase(reply.headers.firstValue(DragonflyProxy.HEADER_ERROR_TYPE)
                        .orElse(""))) {
                    throw error(c.what + " via Dragonfly proxy " + px.config().url(), reply, c.defaultCode);
                }
                if (st == 429) {
                    px.throttle(retryAfter(reply));
                    if (c.priority == ReadPriority.PREFETCH) {
                        throw RegistryException.failed(c.what, "Dragonfly proxy " + px.config().url()
                                + " is throttling (HTTP 429); prefetch skipped", null);
                    }
                    throttled = true;
                    continue;
                }
                if (st >= 500 && px.config().fallback()) {
                    LOG.log(Level.DEBUG, "{0}: Dragonfly proxy answered {1}; reading directly", c.what, st);
                    forceDirect = true;
                    continue;
                }
            }
            if (st == 401 && atRegistry) {
                if (!authRetried && onUnauthorized(reply, authz, c)) {
                    authRetried = true;
                    continue;
                }
                throw error(c.what, reply, c.defaultCode);
            }
            if ((st == 401 || st == 403) && !atRegistry) {
                // the redirect target (a signed URL) expired or was revoked: ask the registry again, once
                if (c.redirectKey != null) {
                    redirects.remove(c.redirectKey, redirect);
                }
                if (!redirectRetried) {
                    redirectRetried = true;
                    redirect = null;
                    continue;
                }
                throw error(c.what + " at " + redactQuery(uri), reply, c.defaultCode);
            }
            if (c.followRedirects && st >= 300 && st < 400 && st != 304) {
                String loc = reply.headers.firstValue("Location").orElse(null);
                if (loc == null) {
                    throw RegistryException.failed(c.what, "HTTP " + st + " redirect without Location", null);
                }
                if (++hops > MAX_REDIRECTS) {
                    throw RegistryException.failed(c.what, "more than " + MAX_REDIRECTS + " redirects", null);
                }
                redirect = rewriteRedirect(uri, loc, c.what);
                if (c.redirectKey != null) {
                    redirects.put(c.redirectKey, redirect);
                }
                continue;
            }
            if ((st >= 500 || st == 429) && st != 501 && retries < retryLimit) {
                LOG.log(Level.DEBUG, "{0}: HTTP {1}; retry {2}", c.what, st, retries + 1);
                backoff.pause(retries++, retryAfter(reply));
                continue;
            }
            if (st / 100 == 2 || c.accept.test(st)) {
                return reply;
            }
            throw error(c.what + (atRegistry ? "" : " at " + redactQuery(uri)), reply, c.defaultCode);
        }
    }

    /** Sends one attempt and waits for it, failing it when no byte moved for the configured timeout. */
    private Reply attempt(Call c, URI uri, Route route, DragonflyProxy px, String authz) throws IOException {
        boolean viaProxy = route == Route.PROXY;
        Activity activity = new Activity();
        HttpRequest.Builder b = HttpRequest.newBuilder(viaProxy ? px.target(uri) : uri);
        b.header("User-Agent", settings.userAgent());
        for (Map.Entry<String, String> h : settings.extraHeaders().entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        if (authz != null) {
            b.header("Authorization", authz);
        }
        for (Map.Entry<String, String> h : c.headers.entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        if (viaProxy) {
            DragonflyProxy.addHeaders(b, c.priority);
        }
        HttpRequest.BodyPublisher body = c.body == null ? HttpRequest.BodyPublishers.noBody()
                : new TouchingPublisher(c.body.get(), activity);
        b.method(c.method, body);
        boolean head = c.method.equals("HEAD");
        AtomicReference<HttpResponse.BodySubscriber<Object>> sinkRef = new AtomicReference<>();
        HttpResponse.BodyHandler<Object> handler = info -> {
            activity.touch();
            HttpResponse.BodySubscriber<Object> s;
            if (info.statusCode() / 100 == 2 && c.sink != null && !head) {
                s = c.sink.create(info, activity);
            } else {
                s = new BufferedSink(MAX_ERROR_BODY, true, activity);
            }
            sinkRef.set(s);
            return s;
        };
        HttpClient client = viaProxy ? px.client() : http;
        CompletableFuture<HttpResponse<Object>> f = client.sendAsync(b.build(), handler);
        long timeout = settings.timeout().toNanos();
        long wait = timeout;
        while (true) {
            try {
                return new Reply(f.get(wait, TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                long idle = activity.idleNanos();
                if (idle >= timeout) {
                    f.cancel(true);
                    abandon(sinkRef.get());
                    throw new StallException("no data for " + settings.timeout().toSeconds() + " s");
                }
                wait = timeout - idle;
            } catch (ExecutionException e) {
                abandon(sinkRef.get());
                Throwable cause = e.getCause();
                if (cause instanceof UncheckedIOException u) {
                    cause = u.getCause();
                }
                if (cause instanceof IOException io) {
                    throw io;
                }
                throw new IOException(cause);
            } catch (InterruptedException e) {
                f.cancel(true);
                abandon(sinkRef.get());
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(c.what + ": interrupted");
            }
        }
    }

    private static void abandon(HttpResponse.BodySubscriber<Object> sink) {
        if (sink instanceof RangeSink r) {
            r.abandon();
        } else if (sink instanceof StreamSink s) {
            s.cancel();
        }
    }

    // ------------------------------------------------------------------------------------------------ auth

    /** The Authorization header for a request needing {@code scopes}, fetching a token if needed; null for none. */
    private String authorization(Set<String> scopes) throws IOException {
        RegistryCredentials cr = credentials;
        if (cr.registryToken() != null && !registryTokenRejected) {
            return "Bearer " + cr.registryToken();
        }
        AuthChallenge ch = challenge;
        if (ch != null && ch.isBearer()) {
            BearerTokenCache.Key key = tokenKey(ch, scopeAliases.getOrDefault(scopes, scopes));
            return "Bearer " + tokens.token(key, k -> tokenEndpoint.fetch(k, cr));
        }
        return cr.basicAuthorization();
    }

    private static BearerTokenCache.Key tokenKey(AuthChallenge ch, Set<String> scopes) {
        return new BearerTokenCache.Key(ch.realm(), ch.service(), scopes);
    }

    /** Learns from a 401 how to authorize; true when the request is worth repeating. */
    private boolean onUnauthorized(Reply reply, String usedAuthz, Call c) {
        List<AuthChallenge> all = AuthChallenge.parseAll(reply.headers.allValues("WWW-Authenticate"));
        AuthChallenge bearer = all.stream().filter(a -> a.isBearer() && a.realm() != null).findFirst().orElse(null);
        AuthChallenge basic = all.stream().filter(AuthChallenge::isBasic).findFirst().orElse(null);
        RegistryCredentials cr = credentials;
        if (usedAuthz != null && cr.registryToken() != null && usedAuthz.equals("Bearer " + cr.registryToken())) {
            registryTokenRejected = true;
            LOG.log(Level.DEBUG, "registry {0} refused the configured registry_token", host());
        }
        if (bearer != null) {
            challenge = bearer;
            Set<String> scopes = new LinkedHashSet<>(c.scopes);
            scopes.addAll(bearer.scopes());
            if (!scopes.equals(c.scopes)) {
                scopeAliases.put(c.scopes, Set.copyOf(scopes));
            }
            if (usedAuthz != null && usedAuthz.startsWith("Bearer ")) {
                String used = usedAuthz.substring(7);
                tokens.invalidate(tokenKey(bearer, scopes), used);
                tokens.invalidate(tokenKey(bearer, c.scopes), used);
            }
            return true;
        }
        if (basic != null) {
            challenge = basic;
            return cr.hasPassword() && (usedAuthz == null || !usedAuthz.startsWith("Basic "));
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private URI registryUri(Call c) {
        if (c.absolute != null) {
            return c.absolute;
        }
        return URI.create(scheme + "://" + settings.host() + "/v2/" + c.path);
    }

    private URI rewriteRedirect(URI from, String location, String what) throws IOException {
        URI u;
        try {
            u = from.resolve(new URI(location));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw RegistryException.failed(what, "bad redirect Location '" + location + "'", e);
        }
        String s = settings.blobUrlScheme().isEmpty() ? u.getScheme() : settings.blobUrlScheme();
        String authority = settings.blobRedirectedHost().isEmpty() ? u.getRawAuthority() : settings.blobRedirectedHost();
        if (s.equals(u.getScheme()) && authority.equals(u.getRawAuthority())) {
            return u;
        }
        String rest = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        return URI.create(s + "://" + authority + rest);
    }

    private static Duration retryAfter(Reply r) {
        Optional<String> v = r.headers.firstValue("Retry-After");
        if (v.isPresent()) {
            try {
                return Duration.ofSeconds(Long.parseLong(v.get().trim()));
            } catch (NumberFormatException e) {
                return null; // an HTTP date: use our own backoff
            }
        }
        return null;
    }

    private static boolean isTlsFailure(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    private static String via(Route route, DragonflyProxy px) {
        return route == Route.PROXY ? " (via Dragonfly proxy " + px.config().url() + ")" : "";
    }

    private static RegistryException error(String what, Reply r, String defaultCode) {
        byte[] body = r.bytes();
        return RegistryException.of(what, r.status, body, body.length == 0 && r.status == 404 ? defaultCode : null);
    }

    private String describeBlob(String repo, String digest, String detail) {
        return "registry " + host() + " repo " + repo + " blob " + digest + detail;
    }

    private String describeManifest(String repo, String reference) {
        return "registry " + host() + " repo " + repo + " manifest " + reference;
    }

    private static Set<String> pullScopes(String repo) {
        return Set.of("repository:" + repo + ":pull");
    }

    private static Set<String> pushScopes(String repo) {
        return Set.of("repository:" + repo + ":pull,push");
    }

    private static String checkRepo(String repo) {
        if (repo == null || !REPO.matcher(repo).matches()) {
            throw new IllegalArgumentException("'" + repo + "' is not a repository name");
        }
        return repo;
    }

    private static String checkDigest(String digest) {
        if (digest == null || !DIGEST.matcher(digest).matches()) {
            throw new IllegalArgumentException("'" + digest + "' is not a digest");
        }
        return digest;
    }

    private static String checkReference(String ref) {
        if (ref == null || !(DIGEST.matcher(ref).matches() || ref.matches("[\\w][\\w.-]{0,127}"))) {
            throw new IllegalArgumentException("'" + ref + "' is not a tag or digest");
        }
        return ref;
    }

    private static String redactQuery(URI u) {
        return u.getRawQuery() == null ? u.toString() : u.toString().substring(0, u.toString().indexOf('?')) + "?…";
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String sha256(byte[] b) {
        return "sha256:" + HexFormat.of().formatHex(io.nydus.rafs.Digester.sha256().digest(b));
    }

    @Override
    public void close() {
        rangeConnections.close();
        DragonflyProxy px = proxy;
        if (px != null) {
            px.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ small types

    /** Nothing moved for the configured timeout. */
    static final class StallException extends IOException {
        StallException(String message) {
            super(message);
        }
    }

    /** The range asked for is past the end of the blob: retrying cannot help. */
    static final class PastEndException extends IOException {
        PastEndException(String message) {
            super(message);
        }
    }

    /** A subscriber that refuses the body (the headers already showed it is not what was asked for). */
    private static final class FailingSink implements HttpResponse.BodySubscriber<Object> {
        private final CompletableFuture<Object> result = new CompletableFuture<>();

        static HttpResponse.BodySubscriber<Object> of(IOException e) {
            FailingSink s = new FailingSink();
            s.result.completeExceptionally(e);
            return s;
        }

        @Override
        public CompletableFuture<Object> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.cancel();
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }

    /** Records upload progress so that a long upload is not mistaken for a stall. */
    private static final class TouchingPublisher implements HttpRequest.BodyPublisher {
        private final HttpRequest.BodyPublisher inner;
        private final Activity activity;

        TouchingPublisher(HttpRequest.BodyPublisher inner, Activity activity) {
            this.inner = inner;
            this.activity = activity;
        }

        @Override
        public long contentLength() {
            return inner.contentLength();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            inner.subscribe(new Flow.Subscriber<ByteBuffer>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    s.onSubscribe(subscription);
                }

                @Override
                public void onNext(ByteBuffer item) {
                    activity.touch();
                    s.onNext(item);
                }

                @Override
                public void onError(Throwable t) {
                    s.onError(t);
                }

                @Override
                public void onComplete() {
                    s.onComplete();
                }
            });
        }
    }
}
