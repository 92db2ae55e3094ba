/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A steering method as written on the command line: {@code NAME[:key=value,key=value...]}, e.g.
 * {@code caa:layer=2,coeff=4} or {@code sparse-mean-diff:layer=1,k=16}. See {@link Methods} for
 * the names and keys.
 */
public record MethodSpec(String name, Map<String, String> params) {
    public MethodSpec {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("method spec has no method name");
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** Parses {@code NAME[:key=value,...]}. */
    public static MethodSpec parse(String text) {
        String s = text.strip();
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon).strip();
        if (name.isEmpty()) throw new IllegalArgumentException("method spec '" + text + "' has no method name (expected e.g. caa:layer=2,coeff=4)");
        Map<String, String> params = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String part : s.substring(colon + 1).split(",")) {
                if (part.isBlank()) continue;
                int eq = part.indexOf('=');
                if (eq <= 0 || eq == part.length() - 1) {
                    throw new IllegalArgumentException("method spec '" + text + "': '" + part.strip() + "' is not key=value");
                }
                String key = part.substring(0, eq).strip();
                if (params.put(key, part.substring(eq + 1).strip()) != null) {
                    throw new IllegalArgumentException("method spec '" + text + "' sets '" + key + "' twice");
                }
            }
        }
        return new MethodSpec(name.toLowerCase(java.util.Locale.ROOT), params);
    }

    /** This spec with {@code key} set to {@code value} (replacing any value it had). */
    public MethodSpec with(String key, String value) {
        Map<String, String> p = new LinkedHashMap<>(params);
        p.put(key, value);
        return new MethodSpec(name, p);
    }

    /** This spec with {@code key} set unless it already has a value. */
    public MethodSpec withDefault(String key, String value) {
        return params.containsKey(key) ? this : with(key, value);
    }

    @Override
    public String toString() {
        return params.isEmpty() ? name : name + ":" + params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }
}
