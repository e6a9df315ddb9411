package io.nydus.snapshotter;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * containerd's filter expressions over snapshots ({@code filters} package; fields of {@code adaptSnapshot}):
 * {@code sel ("," sel)*} where {@code sel := fieldpath [("==" | "!=" | "~=") value]}, a field path is dotted
 * identifiers or double-quoted strings ({@code labels."containerd.io/snapshot.ref"}), a value is quoted
 * ({@code "…"}, or {@code /…/} and {@code |…|} for regular expressions) or runs up to the next comma. The selectors
 * of one expression must all match; {@link #anyOf} ORs expressions, as {@code List} does.
 */
public final class Filter {
    private enum Op { PRESENT, EQ, NE, MATCH }

    private record Selector(List<String> path, Op op, String value, Pattern regex) {
    }

    private final List<Selector> selectors;

    private Filter(List<Selector> selectors) {
        this.selectors = selectors;
    }

    /** Parses one expression; InvalidArgument naming the offset on a syntax error. */
    public static Filter parse(String expression) {
        return new Parser(expression).parse();
    }

    /** True when {@code s} matches any of {@code expressions} (all of them empty → everything matches). */
    public static java.util.function.Predicate<Snapshot> anyOf(List<String> expressions) {
        List<Filter> filters = new ArrayList<>();
        for (String e : expressions) {
            if (!e.isBlank()) {
                filters.add(parse(e));
            }
        }
        if (filters.isEmpty()) {
            return s -> true;
        }
        return s -> filters.stream().anyMatch(f -> f.matches(s));
    }

    /** containerd's {@code selector.Match}: equality needs the field present; != and ~= see an absent one as "". */
    public boolean matches(Snapshot s) {
        for (Selector sel : selectors) {
            String v = field(s, sel.path());
            boolean ok = switch (sel.op()) {
                case PRESENT -> v != null;
                case EQ -> v != null && v.equals(sel.value());
                case NE -> !(v == null ? "" : v).equals(sel.value());
                case MATCH -> sel.regex().matcher(v == null ? "" : v).find();
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The field's value, or null when absent; name and parent are always present, as in containerd. */
    private static String field(Snapshot s, List<String> path) {
        if (path.isEmpty()) {
            return null;
        }
        return switch (path.get(0)) {
            case "kind" -> s.kind().word();
            case "name" -> s.name();
            case "parent" -> s.parent();
            case "labels" -> s.labels().isEmpty() ? null
                    : s.labels().get(String.join(".", path.subList(1, path.size())));
            default -> null;
        };
    }

    private static final class Parser {
        private final String in;
        private int pos;

        Parser(String in) {
            this.in = in;
        }

        Filter parse() {
            List<Selector> sels = new ArrayList<>();
            skipSpace();
            while (true) {
                sels.add(selector());
                skipSpace();
                if (pos == in.length()) {
                    return new Filter(sels);
                }
                expect(',');
                skipSpace();
            }
        }

        private Selector selector() {
            List<String> path = new ArrayList<>();
            path.add(field());
            while (pos < in.length() && in.charAt(pos) == '.') {
                pos++;
                path.add(field());
            }
            skipSpace();
            if (pos == in.length() || in.charAt(pos) == ',') {
                return new Selector(path, Op.PRESENT, null, null);
            }
            Op op;
            if (in.startsWith("==", pos)) {
                op = Op.EQ;
            } else if (in.startsWith("!=", pos)) {
                op = Op.NE;
            } else if (in.startsWith("~=", pos)) {
                op = Op.MATCH;
            } else {
                throw error("expected operator");
            }
            pos += 2;
            skipSpace();
            String value = value();
            Pattern regex = null;
            if (op == Op.MATCH) {
                try {
                    regex = Pattern.compile(value);
                } catch (PatternSyntaxException e) {
                    throw error("bad regular expression " + value);
                }
            }
            return new Selector(path, op, value, regex);
        }

        private String field() {
            if (pos < in.length() && in.charAt(pos) == '"') {
                return quoted('"');
            }
            int start = pos;
            while (pos < in.length() && (Character.isLetterOrDigit(in.charAt(pos)) || in.charAt(pos) == '_')) {
                pos++;
            }
            if (start == pos) {
                throw error("expected field name");
            }
            return in.substring(start, pos);
        }

        private String value() {
            if (pos < in.length()) {
                char c = in.charAt(pos);
                if (c == '"' || c == '/' || c == '|') {
                    return quoted(c);
                }
            }
            int start = pos;
            while (pos < in.length() && in.charAt(pos) != ',' && !Character.isWhitespace(in.charAt(pos))) {
                pos++;
            }
            if (start == pos) {
                throw error("expected value");
            }
            return in.substring(start, pos);
        }

        private String quoted(char quote) {
            int start = pos;
            pos++;
            StringBuilder b = new StringBuilder();
            while (pos < in.length()) {
                char c = in.charAt(pos++);
                if (c == quote) {
                    return b.toString();
                }
                if (c == '\\' && pos < in.length()) {
                    char e = in.charAt(pos++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        default -> {
                            if (quote != '"' && e != quote) {
                                b.append('\\'); // regular expression escapes stay for the regex engine
                            }
                            b.append(e);
                        }
                    }
                } else {
                    b.append(c);
                }
            }
            pos = start;
            throw error("unterminated quoted string");
        }

        private void expect(char c) {
            if (pos >= in.length() || in.charAt(pos) != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < in.length() && Character.isWhitespace(in.charAt(pos))) {
                pos++;
            }
        }

        private SnapshotException error(String what) {
            return SnapshotException.invalidArgument("filter \"" + in + "\" at offset " + pos + ": " + what);
        }
    }
}
