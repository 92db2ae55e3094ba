/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Direct logit attribution: how much each part of the model writes, straight into the residual
 * stream, towards one answer token rather than another at one position (Elhage et al., "A
 * Mathematical Framework for Transformer Circuits", 2021; TransformerLens' {@code
 * ActivationCache.logit_attrs}).
 *
 * <p>The final residual stream is a sum of parts: the scaled token embedding ({@code
 * blocks.0.hook_resid_pre}), every block's {@code hook_attn_out} and {@code hook_mlp_out} (after
 * Gemma 2/3's output norms, as added). The final norm is linear in the stream once its scale is
 * fixed, so with the scale {@code s} the final stream has at that position (TransformerLens'
 * {@code apply_ln=True} with the cached {@code ln_final.hook_scale}), each part {@code c} gets
 * <pre>
 *   attribution(c) = center(c) / s . (w * (U[answer] - U[other]))
 * </pre>
 * where {@code U} is the unembedding, {@code w} the final norm's weight as applied (Gemma's
 * {@code 1 + w}), and {@code center} subtracts the mean over the width for LayerNorm (Pythia)
 * and is the identity for RMSNorm. The final norm's bias gives one more term, {@code b . (U[answer]
 * - U[other])}. The terms sum to the logit difference before any final soft-cap ({@link
 * Attribution#logitDifference}), up to float rounding; Gemma 2's soft-cap is not linear and is
 * left out of the attribution ({@link Attribution#modelLogitDifference} is the difference of the
 * model's capped logits).
 *
 * <p><b>Per head</b>: block {@code L}'s attention output is {@code sum_h z_h W_O[:, h] + b_O}, with
 * {@code z_h} head {@code h}'s part of {@code blocks.L.attn.hook_z} at the position (TransformerLens'
 * {@code hook_result} and {@code stack_head_results}); each head gets the term of its own {@code
 * z_h W_O[:, h]} and the output bias {@code b_O}, part of no head, a term of its own ({@link
 * Attribution#attentionBias}). Where the family norms the attention output before adding it
 * (Gemma 2/3's {@code post_attention_layernorm}), that norm is linearised the same way as the
 * final one, with the scale of the whole attention output at that position. The heads' and the
 * bias' terms sum to the block's attention term. Needs the inner hook points, so it runs on the
 * CPU backend.
 */
public final class DirectLogitAttribution {
    private final Model model;

    /**
     * Attribution over {@code model}.
     *
     * @param model the model analysed
     */
    public DirectLogitAttribution(Model model) {
        if (model == null) throw new IllegalArgumentException("direct logit attribution needs a model");
        this.model = model;
    }

    /**
     * The attribution of one prompt at one position.
     *
     * @param position             the position attributed
     * @param answer               the token whose logit counts positively
     * @param other                the token whose logit counts negatively
     * @param embed                the token embedding's term
     * @param attention            {@code attention[L]}: block {@code L}'s {@code hook_attn_out} term
     * @param heads                {@code heads[L][h]}: head {@code h} of block {@code L}, its {@code z_h W_O[:, h]}
     * @param attentionBias        {@code attentionBias[L]}: block {@code L}'s attention output bias (0 without one); with the heads, the block's attention term
     * @param mlp                  {@code mlp[L]}: block {@code L}'s {@code hook_mlp_out} term
     * @param bias                 the final norm's bias term (0 for RMSNorm)
     * @param logitDifference      {@code logit(answer) - logit(other)} before the final soft-cap, from the model's final norm applied to the stream
     * @param modelLogitDifference the same difference of the model's logits as {@link Model#forward} returns them (after the soft-cap where there is one)
     */
    public record Attribution(int position, int answer, int other, double embed, double[] attention, double[][] heads, double[] attentionBias,
            double[] mlp, double bias,
            double logitDifference, double modelLogitDifference) {
        /**
         * The sum of every term, which equals {@link #logitDifference} up to float rounding.
         *
         * @return embedding + attention + MLP + bias terms
         */
        public double total() {
            double s = embed + bias;
            for (int l = 0; l < attention.length; l++) s += attention[l] + mlp[l];
            return s;
        }
    }

    /**
     * Attributes {@code logit(answer) - logit(other)} at the prompt's last position.
     *
     * @param tokens the prompt
     * @param answer the token counted positively
     * @param other  the token counted negatively
     * @return the terms of every part
     */
    public Attribution run(int[] tokens, int answer, int other) {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("direct logit attribution needs a prompt of at least one token");
        return run(tokens, tokens.length - 1, answer, other);
    }

    /**
     * Attributes {@code logit(answer) - logit(other)} at {@code position}.
     *
     * @param tokens   the prompt
     * @param position the position attributed, {@code 0 <= position < tokens.length}
     * @param answer   the token counted positively
     * @param other    the token counted negatively
     * @return the terms of every part
     * @throws IllegalArgumentException on an empty prompt, a position outside it or a token outside the vocabulary
     */
    public Attribution run(int[] tokens, int position, int answer, int other) {
        int L = model.config().numLayers(), d = model.config().hiddenSize(), V = model.config().vocabSize();
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("direct logit attribution needs a prompt of at least one token");
        if (position < 0 || position >= tokens.length) throw new IllegalArgumentException("position " + position + " is outside the prompt of " + tokens.length + " tokens");
        for (int t : new int[] {answer, other}) {
            if (t < 0 || t >= V) throw new IllegalArgumentException("answer token " + t + " is outside the vocabulary [0, " + V + ")");
        }
        List<HookName> points = new ArrayList<>();
        points.add(new HookName(0, HookPoint.RESID_PRE));
        for (int l = 0; l < L; l++) {
            points.add(new HookName(l, HookPoint.ATTN_OUT));
            points.add(new HookName(l, HookPoint.MLP_OUT));
        }
        points.add(new HookName(L - 1, HookPoint.RESID_POST));
        for (int l = 0; l < L; l++) points.add(new HookName(l, HookPoint.Z));
        float[][] acts = Streams.record(model, tokens, points);
        float[] last = row(acts[2 * L + 1], position, d);

        Norm norm = model.weights().finalNorm();
        double[] weight = Readout.normWeight(norm), bias = Readout.normBias(norm);
        float[] ua = Readout.unembedding(model, answer), ub = Readout.unembedding(model, other);
        double[] diff = new double[d], u = new double[d];
        for (int i = 0; i < d; i++) {
            diff[i] = (double) ua[i] - ub[i];
            u[i] = weight[i] * diff[i];
        }
        boolean center = norm instanceof Norm.LayerNorm;
        double scale = scale(norm, last);
        double[] attention = new double[L], mlp = new double[L], attentionBias = new double[L];
        double[][] heads = new double[L][];
        int zWidth = model.config().numHeads() * model.config().headDim();
        for (int l = 0; l < L; l++) {
            attention[l] = term(row(acts[1 + 2 * l], position, d), u, center, scale);
            mlp[l] = term(row(acts[2 + 2 * l], position, d), u, center, scale);
            double[][] parts = headOutputs(model.weights().layers()[l], row(acts[2 * L + 2 + l], position, zWidth));
            heads[l] = new double[parts.length - 1];
            for (int h = 0; h < heads[l].length; h++) heads[l][h] = term(parts[h], u, center, scale);
            attentionBias[l] = term(parts[parts.length - 1], u, center, scale);
        }
        double embed = term(row(acts[0], position, d), u, center, scale);
        double biasTerm = dot(bias, diff);

        float[] normed = last.clone();
        norm.apply(normed, 1);
        double logitDifference = 0;
        for (int i = 0; i < d; i++) logitDifference += normed[i] * diff[i];
        float[] logits = Readout.logits(model, last, 1);
        return new Attribution(position, answer, other, embed, attention, heads, attentionBias, mlp, biasTerm, logitDifference,
                (double) logits[answer] - logits[other]);
    }

    /**
     * What each head adds to the stream at one position, {@code z_h W_O[:, h]}, and last the
     * output bias, each through the attention output's norm where the family has one, linearised
     * at the scale of their sum (their sum is then the attention output as added).
     */
    private double[][] headOutputs(LayerWeights w, float[] z) {
        int d = model.config().hiddenSize(), H = model.config().numHeads(), hd = model.config().headDim();
        double[][] parts = new double[H + 1][d];
        float[] row = new float[H * hd];
        for (int i = 0; i < d; i++) {
            w.o().read((long) i * H * hd, row);
            for (int h = 0; h < H; h++) {
                double s = 0;
                for (int j = h * hd; j < (h + 1) * hd; j++) s += (double) row[j] * z[j];
                parts[h][i] = s;
            }
            if (w.oBias() != null) parts[H][i] = w.oBias()[i];
        }
        Norm post = w.attnOutNorm();
        if (post == null) return parts;
        float[] raw = new float[d];
        for (int i = 0; i < d; i++) {
            double s = 0;
            for (double[] p : parts) s += p[i];
            raw[i] = (float) s;
        }
        double inv = 1 / scale(post, raw);
        double[] weight = Readout.normWeight(post), bias = Readout.normBias(post);
        boolean centerPost = post instanceof Norm.LayerNorm;
        for (int k = 0; k <= H; k++) {
            double mean = 0;
            if (centerPost) {
                for (double v : parts[k]) mean += v;
                mean /= d;
            }
            for (int i = 0; i < d; i++) parts[k][i] = (parts[k][i] - mean) * inv * weight[i] + (k == H ? bias[i] : 0);
        }
        return parts;
    }

    /** The final norm's divisor for the stream {@code x}: {@code sqrt(var(x) + eps)} for LayerNorm, {@code sqrt(mean(x^2) + eps)} for RMSNorm. */
    static double scale(Norm norm, float[] x) {
        int d = x.length;
        return switch (norm) {
            case Norm.LayerNorm ln -> {
                double mean = 0, sq = 0;
                for (float v : x) mean += v;
                mean /= d;
                for (float v : x) sq += (v - mean) * (v - mean);
                yield Math.sqrt(sq / d + ln.eps());
            }
            case Norm.RmsNorm rms -> {
                double sq = 0;
                for (float v : x) sq += (double) v * v;
                yield Math.sqrt(sq / d + rms.eps());
            }
        };
    }

    /** {@code center(c) . u / scale}. */
    private static double term(double[] c, double[] u, boolean center, double scale) {
        double mean = 0;
        if (center) {
            for (double v : c) mean += v;
            mean /= c.length;
        }
        double s = 0;
        for (int i = 0; i < c.length; i++) s += (c[i] - mean) * u[i];
        return s / scale;
    }

    /** {@code center(c) . u / scale}. */
    private static double term(float[] c, double[] u, boolean center, double scale) {
        double mean = 0;
        if (center) {
            for (float v : c) mean += v;
            mean /= c.length;
        }
        double s = 0;
        for (int i = 0; i < c.length; i++) s += (c[i] - mean) * u[i];
        return s / scale;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static float[] row(float[] x, int t, int d) {
        float[] r = new float[d];
        System.arraycopy(x, t * d, r, 0, d);
        return r;
    }
}
