/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.probe;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorMethod;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;

/**
 * Linear-probe direction: the weight vector of an L2 logistic regression that tells positive from
 * negative activations, normalised to unit length (Alain and Bengio 2016, "Understanding
 * intermediate layers using linear classifier probes", arXiv:1610.01644; as a steering direction,
 * the {@code logistic_aggregator} of github.com/steering-vectors/steering-vectors and the probes of
 * Li et al. 2023, "Inference-Time Intervention", arXiv:2306.03341).
 *
 * <pre>
 *   x_j   rows read at the hook (the readout's rows of each prompt), label 1 on positive prompts, 0 on negative
 *   split held out: round(holdout * n) prompts of each side, chosen by a shuffle seeded with seed
 *                   (java.util.Random; with as many positive as negative prompts one permutation
 *                   serves both sides, so a pair is held out together)
 *   (w, b) = argmin sum_j [log(1 + exp(z_j)) - y_j z_j] + (lambda / 2) |w|^2,  z_j = w . x_j + b
 *            on the rows of the other prompts ({@link LogisticRegression})
 *   v     = w / |w|                              (unit norm: the coefficient is the added norm)
 *   steering: h_L(x)[t] += c * v   at every selected position t
 * </pre>
 * The accuracy of the fitted probe ({@code z > 0} predicts positive) on its training rows and on
 * the held-out rows goes into the vector's parameters ({@code train_accuracy},
 * {@code heldout_accuracy}; none with {@code holdout = 0}). The direction is fitted on the training
 * prompts only, so the held-out accuracy is that of the returned direction. Positive prompts score
 * higher along {@code v} by construction ({@code w} is the gradient of the positive log-odds).
 * Differences from steering-vectors' aggregator, which centres each pair on its mean, fits without
 * an intercept and with scikit-learn's default {@code C = 1}: here the intercept absorbs the
 * offset instead (pair centring needs pairs), and {@code lambda = 1} is that same default penalty.
 */
public final class Probe implements VectorMethod {
    private final HookName hook;
    private final double coefficient;
    private final double lambda;
    private final double holdout;
    private final long seed;
    private final Readout readout;
    private final PositionRule positions;

    /** {@code lambda = 1} (scikit-learn's {@code C = 1}), a fifth held out with seed 0, last-token readout, all positions. */
    public Probe(HookName hook, double coefficient) {
        this(hook, coefficient, 1, 0.2, 0, Readout.last(), PositionRule.all());
    }

    /**
     * Reads {@code hook} at the rows {@code readout} selects, holds out the fraction {@code holdout}
     * (in {@code [0, 1)}) of each side's prompts by a shuffle seeded with {@code seed}, fits with L2
     * penalty {@code lambda > 0} and adds {@code coefficient * v} at {@code positions}.
     */
    public Probe(HookName hook, double coefficient, double lambda, double holdout, long seed, Readout readout, PositionRule positions) {
        if (hook == null || readout == null || positions == null) throw new IllegalArgumentException("probe needs a hook point, a readout and a position rule");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        if (!(lambda > 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("l2 must be finite and > 0, got " + lambda);
        if (!(holdout >= 0 && holdout < 1)) throw new IllegalArgumentException("holdout must be in [0, 1), got " + holdout);
        this.hook = hook;
        this.coefficient = coefficient;
        this.lambda = lambda;
        this.holdout = holdout;
        this.seed = seed;
        this.readout = readout;
        this.positions = positions;
    }

    /**
     * A fitted probe.
     *
     * @param vector           {@code v}, unit norm, with the accuracies in its parameters
     * @param fit              the logistic regression on the training rows
     * @param trainAccuracy    accuracy on the training rows
     * @param heldOutAccuracy  accuracy on the held-out rows (empty with {@code holdout = 0})
     */
    public record Result(SteeringVector vector, LogisticRegression.Fit fit, double trainAccuracy, OptionalDouble heldOutAccuracy) {}

    @Override
    public String name() {
        return "probe";
    }

    @Override
    public SteeringVector fitVector(Model model, ContrastSet data) {
        return fitProbe(model, data).vector();
    }

    @Override
    public AddVector fit(Model model, ContrastSet data) {
        return new AddVector(fitVector(model, data), coefficient, positions);
    }

    /** Runs the prompts, fits the probe on the training split and scores it on both splits. */
    public Result fitProbe(Model model, ContrastSet data) {
        int np = data.positive().size(), nn = data.negative().size();
        Random rnd = new Random(seed);
        List<Integer> permP = shuffled(np, rnd);
        List<Integer> permN = np == nn ? permP : shuffled(nn, rnd);
        int hp = held(np, "positive"), hn = held(nn, "negative");
        Activations pos = ActivationCache.record(model, data.positive(), List.of(hook), readout);
        Activations neg = ActivationCache.record(model, data.negative(), List.of(hook), readout);
        Split train = new Split(), test = new Split();
        for (int k = 0; k < np; k++) (k < hp ? test : train).add(pos, hook, permP.get(k), true);
        for (int k = 0; k < nn; k++) (k < hn ? test : train).add(neg, hook, permN.get(k), false);
        LogisticRegression.Fit fit = LogisticRegression.fit(train.rows(), train.labels(), lambda);
        double trainAccuracy = fit.accuracy(train.rows(), train.labels());
        OptionalDouble heldOut = test.size() == 0 ? OptionalDouble.empty() : OptionalDouble.of(fit.accuracy(test.rows(), test.labels()));
        double[] u = fit.unitDirection();
        float[] v = new float[u.length];
        for (int i = 0; i < v.length; i++) v[i] = (float) u[i];
        Map<String, String> params = new LinkedHashMap<>();
        params.put("readout", readout.describe());
        params.put("l2", Double.toString(lambda));
        params.put("holdout", Double.toString(holdout));
        params.put("seed", Long.toString(seed));
        params.put("normalised", "unit");
        params.put("train_accuracy", String.format(Locale.ROOT, "%.4f", trainAccuracy));
        if (heldOut.isPresent()) params.put("heldout_accuracy", String.format(Locale.ROOT, "%.4f", heldOut.getAsDouble()));
        SteeringVector vector = new SteeringVector(hook, v, name(), params, SteeringVector.modelId(model.config()));
        return new Result(vector, fit, trainAccuracy, heldOut);
    }

    private int held(int n, String side) {
        int h = (int) Math.round(holdout * n);
        if (holdout > 0 && h == 0) {
            throw new IllegalArgumentException("holdout " + holdout + " of " + n + " " + side + " prompts holds out none: give more prompts, a larger holdout, or holdout=0");
        }
        if (h >= n) throw new IllegalArgumentException("holdout " + holdout + " of " + n + " " + side + " prompts leaves none to fit on");
        return h;
    }

    private static List<Integer> shuffled(int n, Random rnd) {
        List<Integer> p = new ArrayList<>();
        for (int i = 0; i < n; i++) p.add(i);
        Collections.shuffle(p, rnd);
        return p;
    }

    /** Rows and labels of one split, in the order they are added. */
    private static final class Split {
        private final List<double[]> rows = new ArrayList<>();
        private final List<Boolean> labels = new ArrayList<>();

        void add(Activations a, HookName hook, int prompt, boolean label) {
            float[] r = a.rows(hook, prompt);
            for (double[] row : LogisticRegression.toRows(r, a.width())) {
                rows.add(row);
                labels.add(label);
            }
        }

        int size() {
            return rows.size();
        }

        double[][] rows() {
            return rows.toArray(double[][]::new);
        }

        boolean[] labels() {
            boolean[] l = new boolean[labels.size()];
            for (int i = 0; i < l.length; i++) l[i] = labels.get(i);
            return l;
        }
    }
}
