package io.nydus.blobcache.registry;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Content-Range} header of a 206 answer: {@code bytes first-last/total}.
 *
 * @param total the blob's size, or -1 when the answer says "*"
 * @param text  the part of the header that was parsed, for messages
 */
record ContentRange(long first, long last, long total, String text) {
    private static final Pattern PATTERN = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

    /** The range the header value names, or null when it names none. */
    static ContentRange parse(String header) {
        Matcher m = PATTERN.matcher(header);
        if (!m.find()) {
            return null;
        }
        return new ContentRange(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3)), m.group());
    }
}
