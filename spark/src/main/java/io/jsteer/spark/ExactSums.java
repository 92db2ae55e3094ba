/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/**
 * Per-dimension sums of float rows kept exactly, so that partial sums from any partitioning
 * merge to the same total: a float is {@code m * 2^(E - 150)} with an integer {@code m} of at
 * most 24 bits, so each dimension keeps one integer sum of {@code m} per exponent {@code E}
 * (room for 2^39 rows). Means are rounded once, from the exact sum.
 */
final class ExactSums implements Serializable {
    private static final int EXPONENTS = 255;
    private static final MathContext DIGITS = new MathContext(40);
    private final int width;
    private final long[] sums;
    private long count;

    ExactSums(int width) {
        if (width <= 0) throw new IllegalArgumentException("width must be > 0, got " + width);
        this.width = width;
        this.sums = new long[width * EXPONENTS];
    }

    /** Adds every row of {@code rows} ({@code [n][width]} row-major); a non-finite value fails naming its dimension. */
    void addRows(float[] rows) {
        if (rows.length % width != 0) throw new IllegalArgumentException(rows.length + " values are not whole rows of width " + width);
        for (int off = 0; off < rows.length; off += width) {
            count++;
            for (int i = 0; i < width; i++) {
                int bits = Float.floatToRawIntBits(rows[off + i]);
                int e = (bits >>> 23) & 0xFF;
                if (e == 0xFF) throw new IllegalArgumentException("activation " + rows[off + i] + " in dimension " + i + " is not finite");
                long m = e == 0 ? bits & 0x7FFFFF : (bits & 0x7FFFFF) | 0x800000;
                sums[i * EXPONENTS + Math.max(e, 1)] += bits < 0 ? -m : m;
            }
        }
    }

    /** Adds {@code other}'s rows to these. */
    ExactSums merge(ExactSums other) {
        if (other.width != width) throw new IllegalArgumentException("cannot merge sums of width " + other.width + " into width " + width);
        for (int i = 0; i < sums.length; i++) sums[i] += other.sums[i];
        count += other.count;
        return this;
    }

    long count() {
        return count;
    }

    /** Per-dimension mean: the exact sum divided by the count, rounded to 40 digits and then to double. */
    double[] mean() {
        if (count == 0) throw new IllegalStateException("mean of no rows");
        BigDecimal scale = new BigDecimal(BigInteger.ONE.shiftLeft(149)).multiply(BigDecimal.valueOf(count));
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            BigInteger total = BigInteger.ZERO;
            for (int e = 1; e < EXPONENTS; e++) {
                long s = sums[i * EXPONENTS + e];
                if (s != 0) total = total.add(BigInteger.valueOf(s).shiftLeft(e - 1));
            }
            out[i] = new BigDecimal(total).divide(scale, DIGITS).doubleValue();
        }
        return out;
    }
}
