/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import org.apache.commons.math3.stat.inference.TTest;

/**
 * How steering changed one measure, item by item: the unsteered and steered scores of the same
 * held-out items, their paired differences ({@code steered - unsteered}) summarised with a 95%
 * t confidence interval, and the two-sided paired t-test p-value for "no change".
 *
 * <p>When every difference is the same the t statistic is undefined; {@code pValue} is then 1 for
 * a zero difference and 0 otherwise (the limit as the spread vanishes). With one item it is NaN.
 *
 * @param measure    name of the measure
 * @param unsteered  scores without steering
 * @param steered    scores with steering
 * @param difference paired differences {@code steered - unsteered}
 * @param pValue     two-sided paired t-test p-value
 */
public record Effect(String measure, Summary unsteered, Summary steered, Summary difference, double pValue) {
    /** Compares the scores of the same items without and with steering. */
    public static Effect of(String measure, double[] unsteered, double[] steered) {
        if (unsteered.length != steered.length) {
            throw new IllegalArgumentException("measure '" + measure + "': " + unsteered.length + " unsteered vs " + steered.length + " steered scores; they must pair item for item");
        }
        double[] diff = new double[steered.length];
        for (int i = 0; i < diff.length; i++) diff[i] = steered[i] - unsteered[i];
        Summary d = Summary.of(diff);
        return new Effect(measure, Summary.of(unsteered), Summary.of(steered), d, pValue(unsteered, steered, d));
    }

    private static double pValue(double[] unsteered, double[] steered, Summary d) {
        if (d.n() < 2) return Double.NaN;
        if (d.sd() == 0) return d.mean() == 0 ? 1 : 0;
        return new TTest().pairedTTest(steered, unsteered);
    }

    /** Mean change {@code steered - unsteered}. */
    public double mean() {
        return difference.mean();
    }
}
