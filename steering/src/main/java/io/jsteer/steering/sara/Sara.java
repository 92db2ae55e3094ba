/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sara;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
import java.util.List;

/**
 * SARA, Similarity-based Activation steering with Repulsion and Attraction (Tlaie 2024, "Exploring
 * and steering the moral compass of Large Language Models", arXiv:2405.17345; reference code
 * {@code soft_align_and_repel} in github.com/atlaie/ethical-llms, {@code sara/utils_sara.py}).
 *
 * <pre>
 *   A_s, A_a, A_r   activation matrices [tokens][d] at the hook: the sequence being steered,
 *                   the attract prompts (positive side) and the repel prompts (negative side)
 *   k               = min(tokens of A_s, A_a, A_r)          (the shortest matrix)
 *   C(A)            = V_k S_k, [d][k], from A = U S V^T      (see {@link SvdComponents})
 *   f_i             = 1 + c (cos(C(A_s)_i, C(A_a)_i) - cos(C(A_s)_i, C(A_r)_i))   per neuron i
 *   A_s'[t][i]      = A_s[t][i] f_i
 * </pre>
 * The paper hooks the input of a block ({@code blocks.L.hook_resid_pre}, read from
 * {@code hidden_states[L]}); any hook point may be used here. Several prompts on one side are
 * stacked as rows of one matrix (one prompt per side is the paper's setting). With attract equal
 * to repel every factor is exactly 1 and activations are left unchanged.
 *
 * <p>KV-cached decoding: the paper's hook recomputes the factor from whatever rows the call shows,
 * which during cached generation is one token ({@code k = 1}, so every cosine is {@code +-1}).
 * Here the intervention keeps, per sequence, the unsteered rows it has seen at the hook (prompt
 * and generated tokens); each call appends its rows, computes {@code f} from that whole history,
 * and multiplies only the new rows (earlier ones are already in the KV cache). The factor applied
 * to the newest token is therefore the one a full recomputation over the sequence would apply to
 * it. A fresh sequence (position 0) clears the history. Cost per call: one SVD of the
 * {@code [history][d]} matrix.
 */
public final class Sara implements SteeringMethod {
    private final HookName hook;
    private final double coefficient;
    private final PositionRule positions;

    /** Multiplies all positions. */
    public Sara(HookName hook, double coefficient) {
        this(hook, coefficient, PositionRule.all());
    }

    /** {@code positions} selects the rows multiplied; the factor is always computed from every row seen. */
    public Sara(HookName hook, double coefficient, PositionRule positions) {
        if (hook == null || positions == null) throw new IllegalArgumentException("SARA needs a hook point and a position rule");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        this.hook = hook;
        this.coefficient = coefficient;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "sara";
    }

    @Override
    public Steer fit(Model model, ContrastSet data) {
        int d = model.config().hiddenSize();
        float[] attract = stack(model, data.positive());
        float[] repel = stack(model, data.negative());
        return new Steer(hook, attract, repel, d, coefficient, positions);
    }

    private float[] stack(Model model, List<int[]> prompts) {
        Activations a = ActivationCache.record(model, prompts, List.of(hook), Readout.all());
        return a.stacked(hook);
    }

    /** The fitted intervention: attract / repel components and the per-sequence history. */
    public static final class Steer implements Intervention {
        private final HookName hook;
        private final int width;
        private final int kMax;
        private final double[] attract;
        private final double[] repel;
        private final double coefficient;
        private final PositionRule positions;

        /** {@code attract} and {@code repel} are {@code [rows][width]} stacked activations. */
        public Steer(HookName hook, float[] attract, float[] repel, int width, double coefficient, PositionRule positions) {
            int na = attract.length / width, nr = repel.length / width;
            if (na == 0 || nr == 0 || attract.length % width != 0 || repel.length % width != 0) {
                throw new IllegalArgumentException("attract and repel must be non-empty [rows][" + width + "] matrices");
            }
            this.hook = hook;
            this.width = width;
            this.kMax = Math.min(Math.min(na, nr), width);
            this.attract = SvdComponents.of(attract, na, width, kMax);
            this.repel = SvdComponents.of(repel, nr, width, kMax);
            this.coefficient = coefficient;
            this.positions = positions;
        }

        /** The per-neuron factors {@code f} for a steered matrix of {@code n} rows. */
        public double[] factors(float[] steered, int n) {
            int k = Math.min(n, kMax);
            double[] s = SvdComponents.of(steered, n, width, k);
            double[] cosA = SvdComponents.rowCosines(s, k, attract, kMax, width, k);
            double[] cosR = SvdComponents.rowCosines(s, k, repel, kMax, width, k);
            double[] f = new double[width];
            for (int i = 0; i < width; i++) f[i] = 1 + coefficient * (cosA[i] - cosR[i]);
            return f;
        }

        @Override
        public Hooks.Handle attach(State state) {
            History history = new History(width);
            return state.hooks().add(hook, (ctx, x) -> apply(ctx, x, history));
        }

        private void apply(HookContext ctx, float[] x, History history) {
            if (ctx.width() != width) throw new IllegalArgumentException("SARA was fitted on width " + width + ", the model's hidden size is " + ctx.width());
            history.append(ctx.startPos(), x, ctx.tokens());
            double[] f = factors(history.rows(), history.count());
            for (int t = 0; t < ctx.tokens(); t++) {
                if (!positions.includes(ctx, t)) continue;
                int off = t * width;
                for (int i = 0; i < width; i++) x[off + i] = (float) (x[off + i] * f[i]);
            }
        }

        @Override
        public String describe() {
            return "sara " + hook + " x" + coefficient + " " + positions;
        }
    }

    /** The unsteered rows of one sequence at the hook, in position order. */
    private static final class History {
        private final int width;
        private float[] rows = new float[0];
        private int count;

        History(int width) {
            this.width = width;
        }

        void append(int startPos, float[] x, int tokens) {
            // a state reset (or reuse for a new prompt) starts again at position 0
            if (startPos < count) count = startPos;
            if (startPos > count) {
                throw new IllegalStateException("SARA saw position " + startPos + " but only " + count
                        + " earlier rows: attach it before the prompt is processed");
            }
            int need = (count + tokens) * width;
            if (need > rows.length) rows = Arrays.copyOf(rows, Math.max(need, 2 * rows.length));
            System.arraycopy(x, 0, rows, count * width, tokens * width);
            count += tokens;
        }

        float[] rows() {
            return Arrays.copyOf(rows, count * width);
        }

        int count() {
            return count;
        }
    }
}
