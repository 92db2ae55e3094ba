/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sparse;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ContrastMoments;
import io.jsteer.steering.activations.Moments;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.MomentsMethod;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.TopK;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.weights.ModelConfig;
import java.util.Map;

/**
 * Sparse mean-difference steering: the CAA mean difference restricted to the {@code k}
 * coordinates with the highest effect-to-noise ratio (the coordinate-selection criterion of
 * "Sparse Activation Steering with Mean Differences in Transformer Residual Streams",
 * clawRxiv 2604.02039, 2026; the steering itself is that of Rimsky et al. 2023, arXiv:2312.06681).
 *
 * <pre>
 *   d_i   = mu+_i - mu-_i
 *   ENR_i = |d_i| / sqrt(s+_i^2 / n+ + s-_i^2 / n-)        (Welch standard error)
 *   v_i   = d_i if i is among the k largest ENR_i, else 0;  steering: h[t] += c * v
 * </pre>
 * {@code s^2} are unbiased per-coordinate variances ({@code n - 1} denominators), so each side
 * needs at least two samples (one sample = one readout row of one prompt). Zero variance on both
 * sides: {@code ENR_i = +inf} when {@code d_i != 0} (a noiseless shift ranks first) and {@code 0}
 * when {@code d_i = 0}. Ties are broken by larger {@code |d_i|}, then lower index. With
 * {@code k = d} every coordinate is kept and {@code v} is the CAA vector.
 */
public final class SparseMeanDifference implements MomentsMethod {
    private final HookName hook;
    private final double coefficient;
    private final int k;
    private final Readout readout;
    private final PositionRule positions;

    /** Last-token readout, added at all positions. */
    public SparseMeanDifference(HookName hook, double coefficient, int k) {
        this(hook, coefficient, k, Readout.last(), PositionRule.all());
    }

    /** Fits at {@code hook}, reading the rows {@code readout} selects, keeps {@code k} coordinates, adds {@code coefficient} times the result at {@code positions}. */
    public SparseMeanDifference(HookName hook, double coefficient, int k, Readout readout, PositionRule positions) {
        if (hook == null || readout == null || positions == null) throw new IllegalArgumentException("sparse mean difference needs a hook point, a readout and a position rule");
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        this.hook = hook;
        this.coefficient = coefficient;
        this.k = k;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "sparse-mean-diff";
    }

    @Override
    public HookName hook() {
        return hook;
    }

    @Override
    public Readout readout() {
        return readout;
    }

    @Override
    public SteeringVector fitVector(Model model, ContrastSet data) {
        requireK(model.config()); // before any forward pass
        return MomentsMethod.super.fitVector(model, data);
    }

    @Override
    public SteeringVector fitVector(ContrastMoments moments, int prompts, ModelConfig config) {
        requireK(config);
        double[] v = select(moments.positive(), moments.negative(), k);
        return new SteeringVector(hook, TopK.toFloat(v), name(), Map.of("k", Integer.toString(k), "readout", readout.describe(), "selection", "effect-to-noise ratio"),
                SteeringVector.modelId(config));
    }

    private void requireK(ModelConfig config) {
        int d = config.hiddenSize();
        if (k > d) throw new IllegalArgumentException("k must be in [1, " + d + "], got " + k);
    }

    @Override
    public AddVector fit(Model model, ContrastSet data) {
        return new AddVector(fitVector(model, data), coefficient, positions);
    }

    /** The effect-to-noise ratio of every coordinate (see the class comment for zero variance). */
    public static double[] effectToNoise(Moments positive, Moments negative) {
        requireTwo(positive, "positive");
        requireTwo(negative, "negative");
        double[] mp = positive.mean(), mn = negative.mean(), vp = positive.variance(), vn = negative.variance();
        double np = positive.count(), nn = negative.count();
        double[] enr = new double[mp.length];
        for (int i = 0; i < enr.length; i++) {
            double effect = Math.abs(mp[i] - mn[i]);
            double noise = Math.sqrt(vp[i] / np + vn[i] / nn);
            enr[i] = noise > 0 ? effect / noise : effect > 0 ? Double.POSITIVE_INFINITY : 0;
        }
        return enr;
    }

    /** The mean difference kept on the {@code k} coordinates of highest effect-to-noise ratio. */
    public static double[] select(Moments positive, Moments negative, int k) {
        double[] enr = effectToNoise(positive, negative);
        double[] diff = new ContrastMoments(positive, negative).meanDifference();
        return TopK.keepOnly(diff, TopK.indices(enr, TopK.abs(diff), k));
    }

    private static void requireTwo(Moments m, String side) {
        if (m.count() < 2) throw new IllegalArgumentException("effect-to-noise ratio needs at least 2 " + side + " samples for unbiased variances; got " + m.count());
    }
}
