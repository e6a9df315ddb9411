package io.nydus.rafs;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes of one inode, sorted by name so that output is reproducible (upstream's order is that of a
 * hash map, i.e. arbitrary; readers accept any order).
 */
public final class Xattrs {
    public static final Xattrs EMPTY = new Xattrs(new TreeMap<>());

    /** Longest name and value the format allows (as Linux: 255 and 64 KiB). */
    public static final int MAX_NAME = 255;
    public static final int MAX_VALUE = 65536;

    private final TreeMap<String, byte[]> map;

    private Xattrs(TreeMap<String, byte[]> map) {
        this.map = map;
    }

    public static Xattrs of(Map<String, byte[]> entries) {
        return entries.isEmpty() ? EMPTY : new Xattrs(new TreeMap<>(entries));
    }

    public boolean isEmpty() {
        return map.isEmpty();
    }

    public int size() {
        return map.size();
    }

    public byte[] get(String name) {
        byte[] v = map.get(name);
        return v == null ? null : v.clone();
    }

    public Map<String, byte[]> asMap() {
        return Collections.unmodifiableMap(map);
    }

    public Xattrs without(String name) {
        if (!map.containsKey(name)) {
            return this;
        }
        TreeMap<String, byte[]> m = new TreeMap<>(map);
        m.remove(name);
        return m.isEmpty() ? EMPTY : new Xattrs(m);
    }

    /** Whether nydus can store this name: {@code user.}, {@code security.}, {@code trusted.}, POSIX ACLs. */
    public static boolean isSupportedName(String name) {
        return name.startsWith("user.") || name.startsWith("security.") || name.startsWith("trusted.")
                || name.equals("system.posix_acl_access") || name.equals("system.posix_acl_default");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Xattrs x) || x.map.size() != map.size()) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : map.entrySet()) {
            if (!Arrays.equals(e.getValue(), x.map.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return map.keySet().hashCode();
    }

    @Override
    public String toString() {
        return map.keySet().toString();
    }
}
