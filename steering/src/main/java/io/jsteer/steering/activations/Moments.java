/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

/**
 * Per-dimension mean and unbiased variance of rows added one at a time. The mean is rounded once
 * from exact sums ({@link ExactSums}), so it does not depend on the order of the rows and equals
 * the mean reduced from partitions on a cluster bit for bit; the variance uses Welford's update in
 * double precision (so a large mean does not swamp a small variance).
 */
public final class Moments {
    private final int width;
    private final ExactSums sums;
    /** Welford's running mean, which the variance update needs. */
    private final double[] running;
    private final double[] m2;
    private long count;

    /** Empty moments of rows of {@code width} values. */
    public Moments(int width) {
        if (width <= 0) throw new IllegalArgumentException("width must be > 0, got " + width);
        this.width = width;
        this.sums = new ExactSums(width);
        this.running = new double[width];
        this.m2 = new double[width];
    }

    /**
     * Adds every row of {@code rows} ({@code [n][width]} row-major).
     *
     * @throws IllegalArgumentException for values that are not whole rows, or a value that is not
     *     finite (naming its dimension); nothing of {@code rows} is added then
     */
    public Moments addRows(float[] rows) {
        sums.addRows(rows);
        for (int off = 0; off < rows.length; off += width) {
            count++;
            for (int i = 0; i < width; i++) {
                double x = rows[off + i];
                double delta = x - running[i];
                running[i] += delta / count;
                m2[i] += delta * (x - running[i]);
            }
        }
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

    /** Per-dimension mean, rounded once from the exact sums ({@link ExactSums#mean()}); fails when nothing was added. */
    public double[] mean() {
        return sums.mean();
    }

    /** Per-dimension unbiased variance {@code sum (x - mean)^2 / (n - 1)}; needs at least two rows. */
    public double[] variance() {
        if (count < 2) throw new IllegalStateException("unbiased variance needs at least 2 rows, got " + count);
        double[] v = new double[width];
        for (int i = 0; i < width; i++) v[i] = m2[i] / (count - 1);
        return v;
    }
}
