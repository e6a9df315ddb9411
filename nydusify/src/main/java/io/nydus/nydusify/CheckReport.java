package io.nydus.nydusify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What {@code check} found: problems (empty when the image is good) and how much it looked at. */
public final class CheckReport {
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private long manifests;
    private long entries;
    private long comparedEntries;
    private long bytesRead;

    void problem(String p) {
        problems.add(NydusifyException.oneLine(p));
    }

    void addManifest() {
        manifests++;
    }

    void addEntries(long n, long compared, long bytes) {
        entries += n;
        comparedEntries += compared;
        bytesRead += bytes;
    }

    public List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    public long manifests() {
        return manifests;
    }

    /** Entries of the nydus image(s) read. */
    public long entries() {
        return entries;
    }

    /** Entries compared with the source image. */
    public long comparedEntries() {
        return comparedEntries;
    }

    public long bytesRead() {
        return bytesRead;
    }
}
