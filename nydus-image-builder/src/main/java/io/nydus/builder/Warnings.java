package io.nydus.builder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Things the builder skipped or changed, summarised once at the end (one line per kind, with a count). */
public final class Warnings {
    private final Map<String, Integer> counts = new LinkedHashMap<>();
    private final Map<String, String> examples = new LinkedHashMap<>();

    public synchronized void add(String kind, String example) {
        counts.merge(kind, 1, Integer::sum);
        examples.putIfAbsent(kind, example);
    }

    public synchronized List<String> summary() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            out.add(e.getKey() + ": " + e.getValue() + (e.getValue() == 1 ? " time" : " times") + " (e.g. "
                    + examples.get(e.getKey()) + ")");
        }
        return out;
    }
}
