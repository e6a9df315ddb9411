package io.nydus.blobcache.registry;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme ("basic", "bearer") and its parameters.
 * Registries send {@code Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"}; one header
 * may carry several challenges and a scope parameter may list several scopes separated by spaces.
 */
public final class AuthChallenge {
    private final String scheme;
    private final Map<String, String> params;

    public AuthChallenge(String scheme, Map<String, String> params) {
        this.scheme = scheme.toLowerCase(Locale.ROOT);
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** Lower-case scheme name. */
    public String scheme() {
        return scheme;
    }

    public boolean isBearer() {
        return scheme.equals("bearer");
    }

    public boolean isBasic() {
        return scheme.equals("basic");
    }

    /** A parameter by lower-case name, or null. */
    public String param(String name) {
        return params.get(name);
    }

    public String realm() {
        return params.get("realm");
    }

    public String service() {
        return params.get("service");
    }

    /** The scopes of the {@code scope} parameter (space separated), in order. */
    public Set<String> scopes() {
        Set<String> s = new LinkedHashSet<>();
        String v = params.get("scope");
        if (v != null) {
            for (String one : v.split(" ")) {
                if (!one.isEmpty()) {
                    s.add(one);
                }
            }
        }
        return s;
    }

    /** Parses every challenge of the given header values; unparseable parts are skipped. */
    public static List<AuthChallenge> parseAll(List<String> headerValues) {
        List<AuthChallenge> all = new ArrayList<>();
        for (String v : headerValues) {
            all.addAll(parse(v));
        }
        return all;
    }

    /**
     * Parses one header value. Grammar (RFC 7235, simplified): comma separated items, quotes respected; an item that
     * starts with a token not followed by '=' begins a new challenge (the scheme), optionally followed by its first
     * {@code name=value} parameter or a token68 (ignored); other items are parameters of the current challenge.
     * Values are tokens or quoted strings with backslash escapes.
     */
    public static List<AuthChallenge> parse(String header) {
        List<AuthChallenge> out = new ArrayList<>();
        if (header == null) {
            return out;
        }
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        for (String item : splitItems(header)) {
            String rest = item;
            int sp = indexOfSpaceBeforeEquals(item);
            if (sp >= 0) {
                // "Scheme ..." begins a challenge
                if (scheme != null) {
                    out.add(new AuthChallenge(scheme, params));
                    params = new LinkedHashMap<>();
                }
                scheme = item.substring(0, sp);
                rest = item.substring(sp).trim();
                if (rest.isEmpty()) {
                    continue;
                }
            } else if (item.indexOf('=') < 0) {
                if (scheme != null) {
                    out.add(new AuthChallenge(scheme, params));
                    params = new LinkedHashMap<>();
                }
                scheme = item;
                continue;
            }
            if (scheme == null) {
                continue; // a parameter before any scheme: malformed, skip
            }
            int eq = rest.indexOf('=');
            String value = eq < 0 ? "" : rest.substring(eq + 1).trim();
            if (eq <= 0 || value.isEmpty() || value.startsWith("=")) {
                continue; // token68 (e.g. base64 with padding): not used by registries
            }
            if (value.startsWith("\"")) {
                value = unquote(value);
            }
            params.put(rest.substring(0, eq).trim().toLowerCase(Locale.ROOT), value);
        }
        if (scheme != null) {
            out.add(new AuthChallenge(scheme, params));
        }
        return out;
    }

    /** Position of the first blank if the item begins with a token followed by a blank and not by '=', else -1. */
    private static int indexOfSpaceBeforeEquals(String item) {
        for (int i = 0; i < item.length(); i++) {
            char ch = item.charAt(i);
            if (ch == '=' || ch == '"') {
                return -1;
            }
            if (ch == ' ' || ch == '\t') {
                int j = i;
                while (j < item.length() && (item.charAt(j) == ' ' || item.charAt(j) == '\t')) {
                    j++;
                }
                return j < item.length() && item.charAt(j) == '=' ? -1 : i;
            }
        }
        return -1;
    }

    private static List<String> splitItems(String header) {
        List<String> items = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < header.length(); i++) {
            char ch = header.charAt(i);
            if (quoted && ch == '\\' && i + 1 < header.length()) {
                cur.append(ch).append(header.charAt(++i));
                continue;
            }
            if (ch == '"') {
                quoted = !quoted;
            }
            if (ch == ',' && !quoted) {
                addItem(items, cur);
            } else {
                cur.append(ch);
            }
        }
        addItem(items, cur);
        return items;
    }

    private static void addItem(List<String> items, StringBuilder cur) {
        String t = cur.toString().trim();
        if (!t.isEmpty()) {
            items.add(t);
        }
        cur.setLength(0);
    }

    private static String unquote(String v) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch == '\\' && i + 1 < v.length()) {
                b.append(v.charAt(++i));
            } else if (ch == '"') {
                break;
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return scheme + " " + params;
    }
}
