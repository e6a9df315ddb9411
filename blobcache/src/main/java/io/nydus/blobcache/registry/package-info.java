/**
 * The project's one client of the OCI distribution API, shared by the registry backend (blob range reads) and
 * nydusify (pull and push).
 *
 * <ul>
 *   <li>{@link io.nydus.blobcache.registry.RegistryClient}: every call; one request loop for auth, redirects,
 *       the Dragonfly proxy and retries.</li>
 *   <li>{@link io.nydus.blobcache.registry.RegistrySettings}, {@link io.nydus.blobcache.registry.RegistryCredentials},
 *       {@link io.nydus.blobcache.registry.ProxyConfig}: what to connect to and how.</li>
 *   <li>{@link io.nydus.blobcache.registry.AuthChallenge}, {@code BearerTokenCache}, {@code TokenEndpoint}: the
 *       Docker token flow (challenge, POST/GET token request, per-scope cache renewed before expiry).</li>
 *   <li>{@link io.nydus.blobcache.registry.DockerConfigCredentials}: credentials from docker's config.json.</li>
 *   <li>{@link io.nydus.blobcache.registry.DragonflyProxy}: routing of blob reads through a dfdaemon, its health
 *       checks, fallback and throttling.</li>
 *   <li>{@code RangeSink}, {@code StreamSink}, {@code BufferedSink}, {@code BlobStream}: response bodies copied into
 *       the caller's array, streamed with resume and digest check, or collected.</li>
 * </ul>
 */
package io.nydus.blobcache.registry;
