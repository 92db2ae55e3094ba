/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.actadd;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.List;
import java.util.Map;

/**
 * Activation Addition (Turner, Thiergart, Leech, Udell, Vazquez, Mini, MacDiarmid 2023,
 * "Steering Language Models With Activation Engineering", arXiv:2308.10248): the difference of
 * the activations of one prompt pair {@code (p+, p-)}, e.g. ("Love", "Hate"), times a coefficient.
 *
 * <pre>
 *   POSITIONAL (the paper's injection): M = h_L(p+) - h_L(p-), a [n][d] matrix (p+, p- of equal
 *       length n, the shorter padded beforehand); steering: h_L(x)[t] += c * M[t] for t = 0..n-1
 *       of the prompt only (generated tokens untouched, prompt at least n tokens).
 *   LAST_TOKEN: v = h_L(p+)[n+ - 1] - h_L(p-)[n- - 1];              h_L(x)[t] += c * v
 *   MEAN:       v = (1/n) sum_t (h_L(p+)[t] - h_L(p-)[t]) (equal n); h_L(x)[t] += c * v
 * </pre>
 * The vector variants add at every selected position (default: all, prompt and generated, as a
 * Hugging Face forward hook does during {@code generate()}).
 *
 * <p>The paper reads and injects at the residual stream entering block {@code L}
 * (TransformerLens' {@code blocks.L.hook_resid_pre}, e.g. {@code L = 6} of GPT-2 XL), the
 * positional injection over the prompt: {@link #paper(int, double)} is that setting, and
 * {@code actadd:preset=paper} on the command line. Any hook point may be used instead; note that
 * {@code blocks.L.hook_resid_pre} is {@code blocks.(L-1).hook_resid_post}, so the same stream is
 * reached one layer number lower with {@code resid_post}.
 */
public final class ActAdd implements SteeringMethod {
    /** How the activation difference becomes the steering signal. */
    public enum Variant {
        /** The paper's injection: the difference matrix added position by position over the prompt. */
        POSITIONAL,
        /** The difference of the last tokens' activations, added at every selected position. */
        LAST_TOKEN,
        /** The mean over positions of the difference (prompts of equal length), added at every selected position. */
        MEAN
    }

    private final HookName hook;
    private final double coefficient;
    private final Variant variant;
    private final PositionRule positions;

    /** The vector variants add at all positions; the positional one at prompt positions {@code 0..n-1}. */
    public ActAdd(HookName hook, double coefficient, Variant variant) {
        this(hook, coefficient, variant, PositionRule.all());
    }

    /** {@code positions} applies to the vector variants; the positional variant's positions are fixed by its matrix. */
    public ActAdd(HookName hook, double coefficient, Variant variant, PositionRule positions) {
        if (hook == null || variant == null || positions == null) throw new IllegalArgumentException("ActAdd needs a hook point, a variant and a position rule");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        this.hook = hook;
        this.coefficient = coefficient;
        this.variant = variant;
        this.positions = positions;
    }

    /** The paper's setting: the positional injection at {@code blocks.layer.hook_resid_pre}. */
    public static ActAdd paper(int layer, double coefficient) {
        return new ActAdd(new HookName(layer, HookPoint.RESID_PRE), coefficient, Variant.POSITIONAL);
    }

    @Override
    public String name() {
        return "actadd";
    }

    @Override
    public Intervention fit(Model model, ContrastSet data) {
        return variant == Variant.POSITIONAL
                ? new PositionalAdd(hook, fitMatrix(model, data), model.config().hiddenSize(), coefficient)
                : new AddVector(fitVector(model, data), coefficient, positions);
    }

    /** The unscaled vector of the LAST_TOKEN or MEAN variant. */
    public SteeringVector fitVector(Model model, ContrastSet data) {
        if (variant == Variant.POSITIONAL) throw new IllegalStateException("the positional variant adds a matrix, not a vector: use fitMatrix");
        Pair p = run(model, data);
        int d = p.width;
        float[] v = new float[d];
        if (variant == Variant.LAST_TOKEN) {
            int lp = p.plus.length - d, lm = p.minus.length - d;
            for (int i = 0; i < d; i++) v[i] = p.plus[lp + i] - p.minus[lm + i];
        } else {
            requireEqualLength(p);
            int n = p.plus.length / d;
            for (int i = 0; i < d; i++) {
                double s = 0;
                for (int t = 0; t < n; t++) s += p.plus[t * d + i] - p.minus[t * d + i];
                v[i] = (float) (s / n);
            }
        }
        return new SteeringVector(hook, v, name(), Map.of("variant", variant.name().toLowerCase()), SteeringVector.modelId(model.config()));
    }

    /** The unscaled {@code [n][d]} difference matrix of the POSITIONAL variant, row-major. */
    public float[] fitMatrix(Model model, ContrastSet data) {
        Pair p = run(model, data);
        requireEqualLength(p);
        float[] m = new float[p.plus.length];
        for (int i = 0; i < m.length; i++) m[i] = p.plus[i] - p.minus[i];
        return m;
    }

    private record Pair(float[] plus, float[] minus, int width) {}

    private Pair run(Model model, ContrastSet data) {
        if (data.positive().size() != 1 || data.negative().size() != 1) {
            throw new IllegalArgumentException("ActAdd takes one prompt pair (p+, p-); got " + data.positive().size()
                    + " positive and " + data.negative().size() + " negative prompts (CAA averages over many pairs)");
        }
        Activations a = ActivationCache.record(model, List.of(data.positive().getFirst(), data.negative().getFirst()), List.of(hook), Readout.all());
        return new Pair(a.rows(hook, 0), a.rows(hook, 1), a.width());
    }

    private void requireEqualLength(Pair p) {
        if (p.plus.length != p.minus.length) {
            throw new IllegalArgumentException("ActAdd " + variant.name().toLowerCase() + " variant needs p+ and p- of equal length (pad the shorter one); got "
                    + p.plus.length / p.width + " and " + p.minus.length / p.width + " tokens");
        }
    }
}
