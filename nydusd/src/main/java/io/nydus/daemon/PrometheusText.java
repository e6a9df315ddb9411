package io.nydus.daemon;

import io.nydus.blobcache.BackendMetrics;
import java.util.List;
import java.util.Locale;

/** The daemon's counters in the Prometheus text exposition format (served at {@code /metrics}). */
final class PrometheusText {
    private PrometheusText() {
    }

    static String render(DaemonState state, List<RafsImage> images) {
        StringBuilder sb = new StringBuilder();
        header(sb, "nydusd_daemon_state", "gauge", "Daemon state (1 INIT, 2 RUNNING, 3 READY, 4 STOPPED)");
        sb.append("nydusd_daemon_state ").append(state.code()).append('\n');
        header(sb, "nydusd_mounts", "gauge", "Images mounted");
        sb.append("nydusd_mounts ").append(images.size()).append('\n');

        header(sb, "nydusd_fs_read_bytes_total", "counter", "Bytes read from mounted images");
        for (RafsImage img : images) {
            line(sb, "nydusd_fs_read_bytes_total", img, null, img.metrics().dataRead());
        }
        header(sb, "nydusd_fs_open_files", "gauge", "Files open");
        for (RafsImage img : images) {
            line(sb, "nydusd_fs_open_files", img, null, img.metrics().nrOpens());
        }
        header(sb, "nydusd_fs_fop_hits_total", "counter", "Successful filesystem operations");
        for (RafsImage img : images) {
            for (FsMetrics.Fop f : FsMetrics.Fop.values()) {
                line(sb, "nydusd_fs_fop_hits_total", img, f, img.metrics().fopHits(f));
            }
        }
        header(sb, "nydusd_fs_fop_errors_total", "counter", "Failed filesystem operations");
        for (RafsImage img : images) {
            for (FsMetrics.Fop f : FsMetrics.Fop.values()) {
                line(sb, "nydusd_fs_fop_errors_total", img, f, img.metrics().fopErrors(f));
            }
        }
        header(sb, "nydusd_backend_read_count_total", "counter", "Backend read requests");
        header(sb, "nydusd_backend_read_errors_total", "counter", "Failed backend read requests");
        header(sb, "nydusd_backend_read_bytes_total", "counter", "Bytes read from the backend");
        header(sb, "nydusd_backend_read_latency_milliseconds_total", "counter", "Time spent in backend reads");
        for (RafsImage img : images) {
            BackendMetrics m = img.backend().metrics();
            line(sb, "nydusd_backend_read_count_total", img, null, m.readCount());
            line(sb, "nydusd_backend_read_errors_total", img, null, m.readErrors());
            line(sb, "nydusd_backend_read_bytes_total", img, null, m.readBytes());
            line(sb, "nydusd_backend_read_latency_milliseconds_total", img, null, m.readLatencyMillisTotal());
        }
        return sb.toString();
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void line(StringBuilder sb, String name, RafsImage img, FsMetrics.Fop fop, long value) {
        sb.append(name).append("{mountpoint=\"").append(escape(img.mountpoint())).append('"');
        if (fop != null) {
            sb.append(",fop=\"").append(fop.name().toLowerCase(Locale.ROOT)).append('"');
        }
        sb.append("} ").append(value).append('\n');
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
