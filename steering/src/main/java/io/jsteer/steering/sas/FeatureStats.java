/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

/** Sum and activation count of each SAE feature over the rows of one side of a contrast set. */
public final class FeatureStats {
    private final double[] sum;
    private final long[] active;
    private long rows;

    /** Empty statistics of {@code features} features. */
    public FeatureStats(int features) {
        this.sum = new double[features];
        this.active = new long[features];
    }

    /** Adds one row of feature activations. */
    public FeatureStats add(double[] f) {
        if (f.length != sum.length) throw new IllegalArgumentException("expected " + sum.length + " feature activations, got " + f.length);
        rows++;
        for (int j = 0; j < f.length; j++) {
            sum[j] += f[j];
            if (f[j] > 0) active[j]++;
        }
        return this;
    }

    /** Rows added so far. */
    public long rows() {
        return rows;
    }

    /** Number of features. */
    public int features() {
        return sum.length;
    }

    /** Mean activation of feature {@code j}. */
    public double mean(int j) {
        return sum[j] / rows;
    }

    /** Fraction of rows in which feature {@code j} is active ({@code > 0}). */
    public double frequency(int j) {
        return (double) active[j] / rows;
    }

    /** Whether feature {@code j} is active in at least one row and in a fraction {@code >= tau} of them. */
    public boolean present(int j, double tau) {
        return active[j] > 0 && frequency(j) >= tau;
    }
}
