/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

/**
 * The constant query of the previous-token head. With {@code q = a} on the first entry of each
 * rotary pair and {@code k = R(theta) q}, the score of key position {@code s} seen from query
 * position {@code t} is {@code c * sum_i cos((s + 1 - t) theta_i)} with {@code c = a^2 / sqrt(head)},
 * largest at {@code s = t - 1}. Smaller distances are told apart by the fast pairs, larger ones
 * by the slow pairs, so no other distance comes close; {@code c} is raised until the previous
 * position gets {@link #MIN_WEIGHT} of the attention at every position of the context.
 */
final class PreviousTokenHead {
    private PreviousTokenHead() {}

    /** Attention the previous position must get, at worst, anywhere in the context. */
    static final double MIN_WEIGHT = 0.995;

    static float[] query(Design design) {
        int hd = design.headDim(), half = design.rotaryDims() / 2;
        double[] theta = new double[half];
        for (int i = 0; i < half; i++) theta[i] = (float) (1.0 / Math.pow(design.ropeBase(), (2.0 * i) / design.rotaryDims()));
        double c = 1;
        while (worstWeight(theta, c, design.context()) < MIN_WEIGHT) {
            c *= 1.25;
            if (c > 1e4) throw new IllegalStateException("no previous-token head amplitude works for rotary dims " + design.rotaryDims() + ", base " + design.ropeBase());
        }
        c *= 1.5; // margin for float32 rounding of the angles and of the scores
        float a = (float) Math.sqrt(c * Math.sqrt(hd));
        float[] q = new float[hd];
        for (int i = 0; i < half; i++) q[i] = a;
        return q;
    }

    /** The smallest softmax weight of the previous position over query positions 1 .. context-1. */
    static double worstWeight(double[] theta, double c, int context) {
        // score as a function of n = s + 1 - t, for n = 1 (the query itself) down to 2 - context
        double[] score = new double[context + 1];
        for (int n = 1; n >= 1 - context; n--) {
            double s = 0;
            for (double th : theta) s += Math.cos(n * th);
            score[1 - n] = c * s;
        }
        double worst = 1, peak = score[1], others = Math.exp(score[0] - peak); // n = 1: itself
        for (int t = 1; t < context; t++) {
            // position t sees n = 1 .. 1 - t; n = 2 - t..1 were seen before, add n = 1 - t (s = 0)
            if (t >= 2) others += Math.exp(score[t] - peak);
            worst = Math.min(worst, 1 / (1 + others));
        }
        return worst;
    }
}
