/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

/**
 * Per-dimension mean and unbiased variance of rows added one at a time, in double precision
 * (Welford's update, so a large mean does not swamp a small variance).
 */
public final class Moments {
    private final int width;
    private final double[] mean;
    private final double[] m2;
    private long count;

    /** Empty moments of rows of {@code width} values. */
    public Moments(int width) {
        if (width <= 0) throw new IllegalArgumentException("width must be > 0, got " + width);
        this.width = width;
        this.mean = new double[width];
        this.m2 = new double[width];
    }

    /** Adds every row of {@code rows} ({@code [n][width]} row-major). */
    public Moments addRows(float[] rows) {
        if (rows.length % width != 0) throw new IllegalArgumentException(rows.length + " values are not whole rows of width " + width);
        for (int off = 0; off < rows.length; off += width) {
            count++;
            for (int i = 0; i < width; i++) {
                double x = rows[off + i];
                double delta = x - mean[i];
                mean[i] += delta / count;
                m2[i] += delta * (x - mean[i]);
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

    /** Per-dimension mean; fails when nothing was added. */
    public double[] mean() {
        if (count == 0) throw new IllegalStateException("mean of no rows");
        return mean.clone();
    }

    /** Per-dimension unbiased variance {@code sum (x - mean)^2 / (n - 1)}; needs at least two rows. */
    public double[] variance() {
        if (count < 2) throw new IllegalStateException("unbiased variance needs at least 2 rows, got " + count);
        double[] v = new double[width];
        for (int i = 0; i < width; i++) v[i] = m2[i] / (count - 1);
        return v;
    }
}
