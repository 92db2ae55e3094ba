/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Mean of a sample with its 95% confidence interval from the t distribution:
 * {@code mean ± t(0.975, n-1) · sd / sqrt(n)}, with {@code sd} the sample standard deviation
 * (divisor {@code n - 1}). With a single value the spread is unknown and {@code sd}, {@code low}
 * and {@code high} are NaN.
 *
 * @param n    sample size
 * @param mean arithmetic mean
 * @param sd   sample standard deviation
 * @param low  lower end of the 95% confidence interval of the mean
 * @param high upper end of the 95% confidence interval of the mean
 */
public record Summary(int n, double mean, double sd, double low, double high) {
    /** Confidence level of {@link #low}/{@link #high}. */
    public static final double LEVEL = 0.95;

    /** Summarises {@code values}; fails on an empty sample or a non-finite value. */
    public static Summary of(double[] values) {
        int n = values.length;
        if (n == 0) throw new IllegalArgumentException("cannot summarise an empty sample");
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(values[i])) throw new IllegalArgumentException("sample value " + i + " is " + values[i]);
            sum += values[i];
        }
        double mean = sum / n;
        if (n == 1) return new Summary(1, mean, Double.NaN, Double.NaN, Double.NaN);
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        double sd = Math.sqrt(ss / (n - 1));
        double half = new TDistribution(n - 1).inverseCumulativeProbability(0.5 + LEVEL / 2) * sd / Math.sqrt(n);
        return new Summary(n, mean, sd, mean - half, mean + half);
    }
}
