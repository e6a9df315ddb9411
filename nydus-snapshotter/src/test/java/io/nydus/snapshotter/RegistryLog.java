package io.nydus.snapshotter;

import io.nydus.testdata.registry.RegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry's access log (one line per request, written when the answer is complete) read as requests: what a
 * test checks to tell which blobs were fetched, whole (200) or by range (206), and by whom.
 */
final class RegistryLog {
    private static final Pattern LINE = Pattern.compile(
            "\"(\\S+) (\\S+) HTTP/[0-9.]+\" (\\d{3}) (\\d+|-) \"[^\"]*\" \"([^\"]*)\"");

    record Request(String method, String path, int status, long bytes, String agent) {
        boolean isBlob(String digest) {
            return path.endsWith("/blobs/" + digest);
        }
    }

    private RegistryLog() {
    }

    /** A position in the log: requests made after it are {@link #since} it. */
    static int mark(RegistryServer registry) throws IOException {
        return Files.readAllLines(registry.log()).size();
    }

    static List<Request> since(RegistryServer registry, int mark) throws IOException {
        List<String> lines = Files.readAllLines(registry.log());
        List<Request> found = new ArrayList<>();
        for (String line : lines.subList(Math.min(mark, lines.size()), lines.size())) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                found.add(new Request(m.group(1), m.group(2), Integer.parseInt(m.group(3)),
                        m.group(4).equals("-") ? 0 : Long.parseLong(m.group(4)), m.group(5)));
            }
        }
        return found;
    }

    /** The requests for one blob. */
    static List<Request> of(List<Request> requests, String digest) {
        return requests.stream().filter(r -> r.isBlob(digest)).toList();
    }
}
