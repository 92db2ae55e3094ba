/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The numpy-made reference values of {@code methods-reference/reference.json} (made by its {@code make_reference.py}). */
public final class MethodsReference {
    private MethodsReference() {}

    /** The whole file. */
    public static JsonNode load() {
        try (InputStream in = MethodsReference.class.getResourceAsStream("/methods-reference/reference.json")) {
            if (in == null) throw new IllegalStateException("methods-reference/reference.json is not on the test classpath");
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JSON array of numbers. */
    public static double[] vector(JsonNode n) {
        double[] v = new double[n.size()];
        for (int i = 0; i < v.length; i++) v[i] = n.get(i).asDouble();
        return v;
    }

    /** A JSON array of arrays of numbers. */
    public static double[][] matrix(JsonNode n) {
        double[][] m = new double[n.size()][];
        for (int i = 0; i < m.length; i++) m[i] = vector(n.get(i));
        return m;
    }

    /** A JSON array of booleans. */
    public static boolean[] booleans(JsonNode n) {
        boolean[] b = new boolean[n.size()];
        for (int i = 0; i < b.length; i++) b[i] = n.get(i).asBoolean();
        return b;
    }

    /** {@code max_i |a_i - b_i|}. */
    public static double maxDiff(double[] a, double[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " and " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
