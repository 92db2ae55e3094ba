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
import java.util.Locale;

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
 * <p>The factor depends on the sign chosen for each singular vector: see {@link SvdComponents}
 * (jsteer makes it a function of the activations; the reference code keeps what its SVD routine
 * returns).
 *
 * <p>Generation, {@link Mode}: the factor of a forward call depends on every row it is computed
 * from, so with the KV cache (earlier positions computed once) the three ways of running the
 * paper's hook differ after the prompt; on the prompt itself all three steer every row with the
 * same factor.
 * <ul>
 *   <li>{@link Mode#HISTORY} (default): the intervention keeps, per sequence, the unsteered rows
 *       it has seen at the hook (prompt and generated tokens); each call appends its rows, computes
 *       {@code f} from that whole history and multiplies only the new rows (earlier ones are in the
 *       KV cache). The newest token gets the factor a full recomputation would give it; earlier
 *       positions keep the factor of their own step. A fresh sequence (position 0) clears the
 *       history. Cost per call: one SVD of the {@code [history][d]} matrix.
 *   <li>{@link Mode#RECOMPUTE}: the hook run on Hugging Face's {@code generate(use_cache=False)}:
 *       decoding runs the whole sequence again for each token
 *       ({@link io.jsteer.transformer.hooks.Hooks#recomputeEachToken()}), {@code f} comes from all
 *       rows and every row is multiplied, so earlier positions are steered again with each new
 *       factor. Cost per token: a forward pass over the whole sequence and one SVD of it.
 *   <li>{@link Mode#CALL}: the reference code as its notebook runs it ({@code generate()} with the
 *       default KV cache): {@code f} from the rows of each call alone, so each generated token is
 *       a one-row matrix ({@code k = 1}, every cosine {@code +-1}).
 * </ul>
 * The three are checked against the reference hook run on Hugging Face's model in both cache
 * settings ({@code make_sara_reference.py} among the test fixtures).
 */
public final class Sara implements SteeringMethod {
    /** How the factor is computed while generating with the KV cache; see the class comment. */
    public enum Mode {
        /** From every unsteered row seen so far; only the rows of the call are multiplied. */
        HISTORY,
        /** Every call must hold the whole sequence from position 0: decoding runs it again for each token. */
        RECOMPUTE,
        /** From the rows of each call alone. */
        CALL
    }

    private final HookName hook;
    private final double coefficient;
    private final PositionRule positions;
    private final Mode mode;

    /** Multiplies all positions. */
    public Sara(HookName hook, double coefficient) {
        this(hook, coefficient, PositionRule.all());
    }

    /** {@code positions} selects the rows multiplied; the factor is always computed from every row seen ({@link Mode#HISTORY}). */
    public Sara(HookName hook, double coefficient, PositionRule positions) {
        this(hook, coefficient, positions, Mode.HISTORY);
    }

    /**
     * {@code positions} selects the rows multiplied; {@code mode} says which rows the factor is
     * computed from while generating.
     */
    public Sara(HookName hook, double coefficient, PositionRule positions, Mode mode) {
        if (hook == null || positions == null || mode == null) throw new IllegalArgumentException("SARA needs a hook point, a position rule and a mode");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        this.hook = hook;
        this.coefficient = coefficient;
        this.positions = positions;
        this.mode = mode;
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
        return new Steer(hook, attract, repel, d, coefficient, positions, mode);
    }

    private float[] stack(Model model, List<int[]> prompts) {
        Activations a = ActivationCache.record(model, prompts, List.of(hook), Readout.all());
        return a.stacked(hook);
    }

    /** The fitted intervention: attract / repel components and, in {@link Mode#HISTORY}, the per-sequence history. */
    public static final class Steer implements Intervention {
        private final HookName hook;
        private final int width;
        private final int kMax;
        private final double[] attract;
        private final double[] repel;
        private final double coefficient;
        private final PositionRule positions;
        private final Mode mode;

        /** {@code attract} and {@code repel} are {@code [rows][width]} stacked activations; {@link Mode#HISTORY}. */
        public Steer(HookName hook, float[] attract, float[] repel, int width, double coefficient, PositionRule positions) {
            this(hook, attract, repel, width, coefficient, positions, Mode.HISTORY);
        }

        /** {@code attract} and {@code repel} are {@code [rows][width]} stacked activations. */
        public Steer(HookName hook, float[] attract, float[] repel, int width, double coefficient, PositionRule positions, Mode mode) {
            if (mode == null) throw new IllegalArgumentException("SARA needs a mode");
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
            this.mode = mode;
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

        /** In {@link Mode#RECOMPUTE} it also asks decoding to run the whole sequence for each token; the handle withdraws both. */
        @Override
        public Hooks.Handle attach(State state) {
            History history = mode == Mode.HISTORY ? new History(width) : null;
            Hooks.Handle steering = state.hooks().add(hook, (ctx, x) -> apply(ctx, x, history));
            if (mode != Mode.RECOMPUTE) return steering;
            Hooks.Handle whole = state.hooks().recomputeEachToken();
            return () -> {
                whole.close();
                steering.close();
            };
        }

        private void apply(HookContext ctx, float[] x, History history) {
            if (ctx.width() != width) throw new IllegalArgumentException("SARA was fitted on width " + width + ", the model's hidden size is " + ctx.width());
            double[] f;
            if (history != null) {
                history.append(ctx.startPos(), x, ctx.tokens());
                f = factors(history.rows(), history.count());
            } else {
                if (mode == Mode.RECOMPUTE && ctx.startPos() != 0) {
                    throw new IllegalStateException("SARA mode=recompute got positions from " + ctx.startPos()
                            + ": each forward call must hold the whole sequence from position 0 (Generator and Engine do this while it is attached)");
                }
                f = factors(Arrays.copyOf(x, ctx.tokens() * width), ctx.tokens());
            }
            for (int t = 0; t < ctx.tokens(); t++) {
                if (!positions.includes(ctx, t)) continue;
                int off = t * width;
                for (int i = 0; i < width; i++) x[off + i] = (float) (x[off + i] * f[i]);
            }
        }

        @Override
        public String describe() {
            return "sara " + hook + " x" + coefficient + " " + positions + (mode == Mode.HISTORY ? "" : " mode=" + mode.name().toLowerCase(Locale.ROOT));
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
