/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.pca;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * PCA steering directions as repeng computes them ({@code read_representations} in
 * github.com/vgel/repeng, {@code repeng/extract.py}; "Representation Engineering", Zou et al.
 * 2023, arXiv:2310.01405), variants {@code pca_diff} (the default of repeng; llama.cpp's
 * {@code cvector-generator} also takes the first principal component of the differences) and
 * {@code pca_center}.
 *
 * <pre>
 *   h+_i, h-_i  the activation of pair i's positive and negative prompt at the hook (one row per prompt)
 *   DIFF:   T = [ h+_i - h-_i ]_i                                   ([n][d])
 *   CENTER: c_i = (h+_i + h-_i) / 2;  T = [ h+_i - c_i ; h-_i - c_i ]_i   ([2n][d], IBM activation-steering's "pca_pairwise")
 *   v  = first principal component of T: the right singular vector of largest singular value of
 *        T - mean_rows(T) (scikit-learn's PCA centres its input, so for DIFF it is the main axis of
 *        the spread of the differences, not their mean), unit norm
 *   sign: v's largest-magnitude entry made positive (lowest index among equals), then repeng's vote:
 *         up   = #{i : h+_i . v > h-_i . v},  down = #{i : h+_i . v &lt; h-_i . v};  v = -v if down > up
 *   steering: h_L(x)[t] += c * v   at every selected position t
 * </pre>
 * The vote orients {@code v} so that in most pairs the positive prompt projects higher; it counts
 * pairs, it does not compare mean projections (a few pairs far below can outweigh many slightly
 * above in the mean, never in the vote). On a tie ({@code up == down}) the sign before the vote
 * stands; repeng then keeps scikit-learn's {@code svd_flip} sign, which also makes a
 * largest-magnitude loading positive but (depending on the scikit-learn version) of the left
 * singular vectors, so a tie is the one case where the two may differ. The explained-variance
 * ratio {@code s_1^2 / sum s_j^2} and the vote go into the vector's parameters.
 *
 * <p>repeng reads the last token ({@code readout=last}) of {@code hidden_states[layer + 1]}, which
 * is {@code blocks.layer.hook_resid_post} except after the last block, where Hugging Face stores
 * the final-normed value (see {@code HookPoint.RESID_POST}). Its vector is added with
 * {@code coeff} to every position of the block's output, as here. {@code v} has unit norm, so the
 * coefficient is the norm of what is added. The SVD is EJML's, in double precision.
 */
public final class Pca implements VectorMethod {
    /** What the principal component is taken of. */
    public enum Variant {
        /** repeng's {@code pca_diff}: the paired differences {@code h+_i - h-_i}. */
        DIFF,
        /** repeng's {@code pca_center}: both prompts of each pair, centred on the pair's mean. */
        CENTER
    }

    /**
     * A fitted direction with how it was oriented.
     *
     * @param unit                   {@code v}, unit norm
     * @param explainedVarianceRatio {@code s_1^2 / sum s_j^2} of the centred {@code T}
     * @param higher                 pairs whose positive prompt projects higher on {@code v}
     * @param lower                  pairs whose positive prompt projects lower
     * @param flipped                whether the vote flipped the sign
     */
    public record Direction(double[] unit, double explainedVarianceRatio, int higher, int lower, boolean flipped) {
        /** A copy of {@code v}. */
        @Override
        public double[] unit() {
            return unit.clone();
        }
    }

    private final HookName hook;
    private final double coefficient;
    private final Variant variant;
    private final Readout readout;
    private final PositionRule positions;

    /** Last-token readout (repeng's), adds at all positions. */
    public Pca(HookName hook, double coefficient, Variant variant) {
        this(hook, coefficient, variant, Readout.last(), PositionRule.all());
    }

    /** Reads one row per prompt ({@code readout}: a token or the prompt mean) and adds {@code coefficient * v} at {@code positions}. */
    public Pca(HookName hook, double coefficient, Variant variant, Readout readout, PositionRule positions) {
        if (hook == null || variant == null || readout == null || positions == null) throw new IllegalArgumentException("PCA needs a hook point, a variant, a readout and a position rule");
        if (readout instanceof Readout.All) {
            throw new IllegalArgumentException("PCA pairs one row per prompt: use readout=last, a token index, or mean (the mean over a prompt's tokens), not all");
        }
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        this.hook = hook;
        this.coefficient = coefficient;
        this.variant = variant;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "pca";
    }

    @Override
    public SteeringVector fitVector(Model model, ContrastSet data) {
        data.requirePaired();
        double[][] pos = rows(model, data.positive());
        double[][] neg = rows(model, data.negative());
        Direction dir = direction(pos, neg, variant);
        double[] u = dir.unit();
        float[] v = new float[u.length];
        for (int i = 0; i < v.length; i++) v[i] = (float) u[i];
        Map<String, String> params = new LinkedHashMap<>();
        params.put("variant", variant == Variant.DIFF ? "pca_diff" : "pca_center");
        params.put("readout", readout.describe());
        params.put("pairs", Integer.toString(pos.length));
        params.put("explained_variance_ratio", String.format(Locale.ROOT, "%.4f", dir.explainedVarianceRatio()));
        params.put("sign_vote", dir.higher() + " pairs higher, " + dir.lower() + " lower");
        params.put("normalised", "unit");
        return new SteeringVector(hook, v, name(), params, SteeringVector.modelId(model.config()));
    }

    @Override
    public AddVector fit(Model model, ContrastSet data) {
        return new AddVector(fitVector(model, data), coefficient, positions);
    }

    private double[][] rows(Model model, List<int[]> prompts) {
        Activations a = ActivationCache.record(model, prompts, List.of(hook), readout);
        double[][] out = new double[prompts.size()][];
        for (int p = 0; p < out.length; p++) {
            float[] r = a.rows(hook, p);
            out[p] = new double[r.length];
            for (int i = 0; i < r.length; i++) out[p][i] = r[i];
        }
        return out;
    }

    /**
     * The oriented first principal component for pairs {@code (positive[i], negative[i])}, each a
     * row of {@code d} values; see the class comment for the formula.
     */
    public static Direction direction(double[][] positive, double[][] negative, Variant variant) {
        if (positive.length == 0 || positive.length != negative.length) {
            throw new IllegalArgumentException("PCA needs pairs: got " + positive.length + " positive and " + negative.length + " negative rows");
        }
        int n = positive.length, d = positive[0].length;
        for (int i = 0; i < n; i++) {
            if (positive[i].length != d || negative[i].length != d) throw new IllegalArgumentException("pair " + i + " has rows of " + positive[i].length + " and " + negative[i].length + " values, expected " + d);
        }
        int rows = variant == Variant.DIFF ? n : 2 * n;
        DMatrixRMaj t = new DMatrixRMaj(rows, d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double p = positive[i][j], m = negative[i][j];
                if (variant == Variant.DIFF) {
                    t.set(i, j, p - m);
                } else {
                    double c = (p + m) / 2;
                    t.set(2 * i, j, p - c);
                    t.set(2 * i + 1, j, m - c);
                }
            }
        }
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int i = 0; i < rows; i++) mean += t.get(i, j);
            mean /= rows;
            for (int i = 0; i < rows; i++) t.set(i, j, t.get(i, j) - mean);
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(rows, d, false, true, true);
        if (!svd.decompose(t.copy())) throw new IllegalStateException("SVD of the [" + rows + "][" + d + "] PCA input did not converge");
        double[] s = svd.getSingularValues();
        int k = svd.numberOfSingularValues();
        int top = 0;
        double total = 0;
        for (int j = 0; j < k; j++) {
            total += s[j] * s[j];
            if (s[j] > s[top]) top = j;
        }
        if (!(s[top] > 0)) {
            throw new IllegalArgumentException(variant == Variant.DIFF && n == 1
                    ? "pca_diff of one pair has nothing left after centring (the principal component of one difference is undefined): give more pairs, or use variant=center or caa"
                    : "the PCA input is all zeros after centring: the " + (variant == Variant.DIFF ? "differences are all equal" : "positive and negative rows coincide"));
        }
        DMatrixRMaj vt = svd.getV(null, true);
        double[] v = new double[d];
        int big = 0;
        for (int j = 0; j < d; j++) {
            v[j] = vt.get(top, j);
            if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
        }
        if (v[big] < 0) for (int j = 0; j < d; j++) v[j] = -v[j];
        int higher = 0, lower = 0;
        for (int i = 0; i < n; i++) {
            double pp = 0, pm = 0;
            for (int j = 0; j < d; j++) {
                pp += positive[i][j] * v[j];
                pm += negative[i][j] * v[j];
            }
            if (pp > pm) higher++;
            else if (pp < pm) lower++;
        }
        boolean flip = lower > higher;
        if (flip) {
            for (int j = 0; j < d; j++) v[j] = -v[j];
            int h = higher;
            higher = lower;
            lower = h;
        }
        return new Direction(v, s[top] * s[top] / total, higher, lower, flip);
    }
}
