import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Turns bench/startup.sh's samples into the report: a Markdown table per link, a PNG bar chart of p50 times, and
 * the targets with pass/fail. Run as a single-file program:
 * {@code java StartupReport.java samples.csv out.md out.png "name=nydusBytes:ociBytes:convertSecs;..." peakRssKb}
 */
public class StartupReport {
    record Sample(String image, String link, String method, double seconds, long bytes) {
    }

    record Stat(double p50, double p95, double meanBytes) {
    }

    public static void main(String[] args) throws IOException {
        Locale.setDefault(Locale.ROOT);
        List<Sample> samples = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0])).subList(1, Files.readAllLines(Path.of(args[0])).size())) {
            String[] f = line.split(",");
            samples.add(new Sample(f[0], f[1], f[2], Double.parseDouble(f[4]), Long.parseLong(f[5])));
        }
        Map<String, long[]> sizes = new LinkedHashMap<>();
        Map<String, Double> convert = new LinkedHashMap<>();
        for (String part : args[3].split(";")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=");
            String[] v = kv[1].split(":");
            sizes.put(kv[0], new long[] {Long.parseLong(v[0]), Long.parseLong(v[1])});
            convert.put(kv[0], Double.parseDouble(v[2]));
        }
        long rssKb = args.length > 4 && !args[4].isBlank() ? Long.parseLong(args[4].trim()) : 0;

        Set<String> links = new LinkedHashSet<>();
        Set<String> images = new LinkedHashSet<>();
        Set<String> methods = new LinkedHashSet<>();
        for (Sample s : samples) {
            links.add(s.link());
            images.add(s.image());
            methods.add(s.method());
        }
        Map<String, Stat> stats = new LinkedHashMap<>();
        for (String l : links) {
            for (String i : images) {
                for (String m : methods) {
                    List<Sample> ss = samples.stream().filter(s -> s.link().equals(l) && s.image().equals(i)
                            && s.method().equals(m)).toList();
                    if (!ss.isEmpty()) {
                        stats.put(key(l, i, m), stat(ss));
                    }
                }
            }
        }

        StringBuilder md = new StringBuilder("# Cold start: nydus vs OCI\n\n");
        md.append("Command: `bench/startup.sh` (").append(samples.size()).append(" samples in all). Each sample starts cold: ")
                .append("empty caches, page cache dropped, fresh processes. Time = pull or mount + workload done. ")
                .append("Bytes = what the registry sent (tc class counter).\n\n");
        md.append("| image | nydus image size | OCI image size | conversion time |\n|---|---:|---:|---:|\n");
        for (String i : images) {
            long[] sz = sizes.getOrDefault(i, new long[2]);
            md.append(String.format("| %s | %.1f MB | %.1f MB | %.1f s |%n", i, sz[0] / 1e6, sz[1] / 1e6,
                    convert.getOrDefault(i, 0.0)));
        }
        if (rssKb > 0) {
            md.append(String.format("%nnydusd peak RSS over all runs: %d MiB%n", rssKb / 1024));
        }
        for (String l : links) {
            md.append("\n## Link: ").append(l).append("\n\n");
            md.append("| image | method | p50 (s) | p95 (s) | MB fetched | read ratio | speed-up vs OCI (p50) |\n");
            md.append("|---|---|---:|---:|---:|---:|---:|\n");
            for (String i : images) {
                Stat oci = stats.get(key(l, i, "oci"));
                for (String m : methods) {
                    Stat st = stats.get(key(l, i, m));
                    if (st == null) {
                        continue;
                    }
                    long[] sz = sizes.getOrDefault(i, new long[] {1, 1});
                    double ratio = st.meanBytes() / (m.equals("oci") ? sz[1] : sz[0]);
                    md.append(String.format("| %s | %s | %.2f | %.2f | %.1f | %.3f | %s |%n", i, m, st.p50(), st.p95(),
                            st.meanBytes() / 1e6, ratio, oci == null ? "-" : String.format("%.1fx", oci.p50() / st.p50())));
                }
            }
        }
        md.append("\n## Targets\n\n");
        String large = images.contains("large") ? "large" : images.iterator().next();
        Stat slowOci = stats.get(key("100mbit", large, "oci"));
        Stat slowNydus = stats.get(key("100mbit", large, "nydus"));
        if (slowOci != null && slowNydus != null) {
            double speed = slowOci.p50() / slowNydus.p50();
            double frac = slowNydus.meanBytes() / sizes.getOrDefault(large, new long[] {1, 1})[0];
            md.append(String.format("- 100 Mbit/s, %s image: nydus %.1fx faster than OCI (target >= 5x): **%s**%n", large,
                    speed, speed >= 5 ? "PASS" : "FAIL"));
            md.append(String.format("- 100 Mbit/s, %s image: nydus fetched %.1f%% of the image (target <= 10%%): **%s**%n",
                    large, 100 * frac, frac <= 0.10 ? "PASS" : "FAIL"));
        }
        for (String i : images) {
            Stat o = stats.get(key("unshaped", i, "oci"));
            Stat n = stats.get(key("unshaped", i, "nydus"));
            if (o != null && n != null) {
                md.append(String.format("- unshaped loopback, %s image: nydus %.2f s vs OCI %.2f s (target: no slower): **%s**%n",
                        i, n.p50(), o.p50(), n.p50() <= o.p50() ? "PASS" : "FAIL"));
            }
        }
        Files.writeString(Path.of(args[1]), md);
        chart(Path.of(args[2]), links, images, methods, stats);
    }

    private static String key(String l, String i, String m) {
        return l + "|" + i + "|" + m;
    }

    private static Stat stat(List<Sample> ss) {
        double[] t = ss.stream().mapToDouble(Sample::seconds).sorted().toArray();
        double bytes = ss.stream().mapToLong(Sample::bytes).average().orElse(0);
        return new Stat(percentile(t, 50), percentile(t, 95), bytes);
    }

    private static double percentile(double[] sorted, int p) {
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    /** Grouped bars: one group per (link, image), one bar per method, height = p50 seconds (log scale). */
    private static void chart(Path out, Set<String> links, Set<String> images, Set<String> methods,
            Map<String, Stat> stats) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> groups = new ArrayList<>();
        for (String l : links) {
            for (String i : images) {
                groups.add(l + "|" + i);
            }
        }
        int w = 140 + groups.size() * 40 * (methods.size() + 1);
        int h = 480;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double max = stats.values().stream().mapToDouble(Stat::p50).max().orElse(1);
        double min = Math.max(0.1, stats.values().stream().mapToDouble(Stat::p50).min().orElse(0.1));
        double lo = Math.floor(Math.log10(min));
        double hi = Math.ceil(Math.log10(max));
        int top = 50;
        int bottom = h - 90;
        int left = 80;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Cold start to workload done, p50 seconds (log scale)", left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (double e = lo; e <= hi; e++) {
            int y = (int) (bottom - (e - lo) / (hi - lo) * (bottom - top));
            g.setColor(new Color(220, 220, 220));
            g.drawLine(left, y, w - 20, y);
            g.setColor(Color.BLACK);
            g.drawString(e >= 0 ? String.format("%.0f s", Math.pow(10, e)) : String.format("%.1f s", Math.pow(10, e)), 10, y + 4);
        }
        Color[] colors = {new Color(214, 39, 40), new Color(31, 119, 180), new Color(44, 160, 44), Color.GRAY};
        int x = left + 20;
        for (String grp : groups) {
            String[] li = grp.split("\\|");
            int gx = x;
            int mi = 0;
            for (String m : methods) {
                Stat st = stats.get(key(li[0], li[1], m));
                if (st != null) {
                    double v = Math.log10(Math.max(st.p50(), min));
                    int y = (int) (bottom - (v - lo) / (hi - lo) * (bottom - top));
                    g.setColor(colors[mi % colors.length]);
                    g.fillRect(x, y, 34, bottom - y);
                    g.setColor(Color.BLACK);
                    g.drawString(String.format("%.1f", st.p50()), x, y - 3);
                }
                x += 40;
                mi++;
            }
            g.setColor(Color.BLACK);
            g.drawString(li[1], gx, bottom + 18);
            g.drawString(li[0], gx, bottom + 34);
            x += 40;
        }
        int lx = left;
        int mi = 0;
        for (String m : methods) {
            g.setColor(colors[mi % colors.length]);
            g.fillRect(lx, h - 30, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(m, lx + 20, h - 19);
            lx += 150;
            mi++;
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, bottom, w - 20, bottom);
        g.dispose();
        ImageIO.write(img, "png", out.toFile());
    }
}
