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
 * Per-dimension sums and sums of squares of float rows kept exactly, and means and variances
 * rounded once from them: the same rows give the same bits in any order and split in any way
 * ({@link #merge}), so statistics fitted on one machine equal those reduced from partitions on a
 * cluster.
 *
 * <p>A finite float is {@code m * 2^(E - 150)} with an integer {@code m} of at most 24 bits and a
 * biased exponent {@code E} (1 for subnormals), so each dimension keeps one 64-bit integer sum of
 * {@code m} per exponent. Its square is {@code m^2 * 2^(2E - 300)} with {@code m^2} of at most 48
 * bits, kept as two 24-bit halves summed at {@code 2E} and {@code 2E + 24}. Every sum has room for
 * 2^39 rows. The mean is the exact total divided by the count, the variance the exact
 * {@code (n sum x^2 - (sum x)^2) / (n (n - 1))}, each rounded to 40 significant digits and then to
 * the nearest double.
 */
public final class ExactSums implements Serializable {
    @Serial
    private static final long serialVersionUID = 2L;
    private static final int EXPONENTS = 255;
    /** Bins of the squares' halves: {@code 2E} and {@code 2E + 24} for {@code E} in 1..254. */
    private static final int SQUARE_BINS = 2 * (EXPONENTS - 1) + 24 + 1;
    private static final MathContext DIGITS = new MathContext(40);
    private final int width;
    /** {@code sums[E * width + i]}: the sum of the signed significands of dimension {@code i} at biased exponent {@code E}. */
    private final long[] sums;
    /** {@code squares[k * width + i]}: the sum of the squared significands' 24-bit halves of dimension {@code i} worth {@code 2^(k - 300)} each. */
    private final long[] squares;
    private long count;

    /** Empty sums of rows of {@code width} values. */
    public ExactSums(int width) {
        if (width <= 0) throw new IllegalArgumentException("width must be > 0, got " + width);
        this.width = width;
        this.sums = new long[width * EXPONENTS];
        this.squares = new long[width * SQUARE_BINS];
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
                int twice = 2 * Math.max(e, 1);
                sums[Math.max(e, 1) * width + i] += bits < 0 ? -m : m;
                long mm = m * m;
                squares[twice * width + i] += mm & 0xFFFFFF;
                squares[(twice + 24) * width + i] += mm >>> 24;
            }
        }
        return this;
    }

    /** Adds {@code other}'s rows to these; returns this. */
    public ExactSums merge(ExactSums other) {
        if (other.width != width) throw new IllegalArgumentException("cannot merge sums of width " + other.width + " into width " + width);
        for (int i = 0; i < sums.length; i++) sums[i] += other.sums[i];
        for (int i = 0; i < squares.length; i++) squares[i] += other.squares[i];
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
        BigDecimal scale = new BigDecimal(BigInteger.ONE.shiftLeft(149)).multiply(BigDecimal.valueOf(count));
        double[] out = new double[width];
        for (int i = 0; i < width; i++) out[i] = new BigDecimal(sum(i)).divide(scale, DIGITS).doubleValue();
        return out;
    }

    /**
     * Per-dimension unbiased variance {@code sum (x - mean)^2 / (n - 1)}, rounded once from the
     * exact sums; needs at least two rows.
     */
    public double[] variance() {
        if (count < 2) throw new IllegalStateException("unbiased variance needs at least 2 rows, got " + count);
        BigInteger n = BigInteger.valueOf(count);
        // n sum x^2 - (sum x)^2 counts units of 2^-298 (the square of the sums' unit)
        BigDecimal scale = new BigDecimal(BigInteger.ONE.shiftLeft(298).multiply(n).multiply(n.subtract(BigInteger.ONE)));
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            BigInteger s = sum(i), q = BigInteger.ZERO;
            for (int k = 2; k < SQUARE_BINS; k++) {
                long v = squares[k * width + i];
                if (v != 0) q = q.add(BigInteger.valueOf(v).shiftLeft(k - 2));
            }
            out[i] = new BigDecimal(n.multiply(q).subtract(s.multiply(s))).divide(scale, DIGITS).doubleValue();
        }
        return out;
    }

    /** The exact sum of dimension {@code i} in units of 2^-149, the value of the significand's last bit at {@code E = 1}. */
    private BigInteger sum(int i) {
        BigInteger total = BigInteger.ZERO;
        for (int e = 1; e < EXPONENTS; e++) {
            long s = sums[e * width + i];
            if (s != 0) total = total.add(BigInteger.valueOf(s).shiftLeft(e - 1));
        }
        return total;
    }
}
