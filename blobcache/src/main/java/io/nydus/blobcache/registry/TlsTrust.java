package io.nydus.blobcache.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** The TLS trust of a registry connection: the system CAs plus {@code ca_cert_files}, or none at all with skip_verify. */
final class TlsTrust {
    private TlsTrust() {
    }

    static SSLContext sslContext(boolean skipVerify, List<Path> caCertFiles) throws IOException {
        List<X509Certificate> extra;
        try {
            extra = skipVerify ? List.of() : readCertificates(caCertFiles);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
        // The certificate files are read now, so a bad one is reported at once. TLS itself, including the system
        // trust store (a few hundred milliseconds to load), is set up at the first TLS connection: a daemon reading
        // a plain-HTTP registry (or a test) never pays for it.
        return new DeferredSslContext(() -> {
            TrustManager tm = skipVerify ? new TrustAll() : systemPlus(extra);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {tm}, null);
            return ctx;
        });
    }

    /** Reads every certificate of the PEM files now, so that a bad file is reported when the client is made. */
    private static List<X509Certificate> readCertificates(List<Path> files) throws IOException,
            GeneralSecurityException {
        List<X509Certificate> out = new java.util.ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (Path p : files) {
            int n = 0;
            try (InputStream in = Files.newInputStream(p)) {
                for (Certificate c : cf.generateCertificates(in)) {
                    out.add((X509Certificate) c);
                    n++;
                }
            } catch (java.security.cert.CertificateException e) {
                throw new IOException("ca_cert_files: " + p + ": not a PEM certificate: " + e.getMessage());
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IOException("ca_cert_files: " + p + ": no such file");
            } catch (IOException e) {
                throw new IOException("ca_cert_files: " + p + ": " + e.getMessage());
            }
            if (n == 0) {
                throw new IOException("ca_cert_files: " + p + ": no certificate in file");
            }
        }
        return out;
    }

    /** The system CAs plus {@code extra}; the host name is still checked, the manager being an extended one. */
    private static X509ExtendedTrustManager systemPlus(List<X509Certificate> extra) throws GeneralSecurityException,
            IOException {
        TrustManagerFactory sys = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        sys.init((KeyStore) null);
        X509ExtendedTrustManager system = (X509ExtendedTrustManager) sys.getTrustManagers()[0];
        if (extra.isEmpty()) {
            return system;
        }
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int i = 0;
        for (X509Certificate c : system.getAcceptedIssuers()) {
            ks.setCertificateEntry("system-" + i++, c);
        }
        for (X509Certificate c : extra) {
            ks.setCertificateEntry("ca-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
    }

    /**
     * Accepts every server certificate and, being an extended trust manager, also skips the host name check that the
     * JDK would otherwise add around a plain one.
     */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
