package io.nydus.blobcache.registry;

import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An SSLContext made on its first use. Setting up TLS loads some 170 classes and costs a quarter of a second at
 * start, which a client of a plain-HTTP registry (the common case on a node's loopback or in CI) never needs.
 * Clients given this context must also be given explicit {@link SSLParameters}, or they ask for the defaults at
 * construction.
 */
final class DeferredSslContext extends SSLContext {
    DeferredSslContext(Callable<SSLContext> factory) {
        super(new Spi(factory), null, "TLS");
    }

    private static final class Spi extends SSLContextSpi {
        private final Callable<SSLContext> factory;
        private volatile SSLContext delegate;

        Spi(Callable<SSLContext> factory) {
            this.factory = factory;
        }

        private SSLContext delegate() {
            SSLContext d = delegate;
            if (d == null) {
                synchronized (this) {
                    d = delegate;
                    if (d == null) {
                        try {
                            d = factory.call();
                        } catch (Exception e) {
                            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
                        }
                        delegate = d;
                    }
                }
            }
            return d;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
            throw new KeyManagementException("a deferred SSLContext is initialised by its factory");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return delegate().getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return delegate().getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return delegate().createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return delegate().createSSLEngine(host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate().getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate().getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return delegate().getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return delegate().getSupportedSSLParameters();
        }
    }
}
