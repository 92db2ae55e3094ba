/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import java.io.Serial;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/**
 * Per-dimension sums of float rows kept exactly, and means rounded once from them: the same rows
 * give the same bits in any order and split in any way ({@link #merge}), so a mean fitted on one
 * machine equals one reduced from partitions on a cluster.
 *
 * <p>A finite float is {@code m * 2^(E - 150)} with an integer {@code m} of at most 24 bits and a
 * biased exponent {@code E} (1 for subnormals), so each dimension keeps one 64-bit integer sum of
 * {@code m} per exponent: room for 2^39 rows. The mean is the exact total divided by the count,
 * rounded to 40 significant digits and then to the nearest double.
 */
public final class ExactSums implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final int EXPONENTS = 255;
    private static final MathContext DIGITS = new MathContext(40);
    private final int width;
    /** {@code sums[E * width + i]}: the sum of the signed significands of dimension {@code i} at biased exponent {@code E}. */
    private final long[] sums;
    private long count;

    /** Empty sums of rows of {@code width} values. */
    public ExactSums(int width) {
        if (width <= 0) throw new IllegalArgumentException("width must be > 0, got " + width);
        this.width = width;
        this.sums = new long[width * EXPONENTS];
    }

    /**
     * Adds every row of {@code rows} ({@code [n][width]} row-major).
     *
     * @throws IllegalArgumentException for values that are not whole rows, or a value that is not
     *     finite (naming its dimension); nothing of {@code rows} is added then
     */
    public ExactSums addRows(float[] rows) {
        if (rows.length % width != 0) throw new IllegalArgumentException(rows.length + " values are not whole rows of width " + width);
        for (int j = 0; j < rows.length; j++) {
            if (!Float.isFinite(rows[j])) throw new IllegalArgumentException("activation " + rows[j] + " in dimension " + j % width + " is not finite");
        }
        for (int off = 0; off < rows.length; off += width) {
            count++;
            for (int i = 0; i < width; i++) {
                int bits = Float.floatToRawIntBits(rows[off + i]);
                int e = (bits >>> 23) & 0xFF;
                long m = e == 0 ? bits & 0x7FFFFF : (bits & 0x7FFFFF) | 0x800000;
                sums[Math.max(e, 1) * width + i] += bits < 0 ? -m : m;
            }
        }
        return this;
    }

    /** Adds {@code other}'s rows to these; returns this. */
    public ExactSums merge(ExactSums other) {
        if (other.width != width) throw new IllegalArgumentException("cannot merge sums of width " + other.width + " into width " + width);
        for (int i = 0; i < sums.length; i++) sums[i] += other.sums[i];
        count += other.count;
        return this;
    }

    /** Number of rows added. */
    public long count() {
        return count;
    }

    /** Values per row. */
    public int width() {
        return width;
    }

    /** Per-dimension mean, rounded once from the exact sum; fails when nothing was added. */
    public double[] mean() {
        if (count == 0) throw new IllegalStateException("mean of no rows");
        // the total counts units of 2^-149, the value of the significand's last bit at E = 1
        BigDecimal scale = new BigDecimal(BigInteger.ONE.shiftLeft(149)).multiply(BigDecimal.valueOf(count));
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            BigInteger total = BigInteger.ZERO;
            for (int e = 1; e < EXPONENTS; e++) {
                long s = sums[e * width + i];
                if (s != 0) total = total.add(BigInteger.valueOf(s).shiftLeft(e - 1));
            }
            out[i] = new BigDecimal(total).divide(scale, DIGITS).doubleValue();
        }
        return out;
    }
}
