/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.lora;

import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.ModelConfig;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * A steering vector added at all positions, {@code x += c v}, expressed as a weight change that
 * standard inference stacks load.
 *
 * <p><b>GPT-NeoX (Pythia): exact, as a bias.</b> A block ends with {@code x + attn_out + mlp_out}
 * (parallel) or {@code (x + attn_out) + mlp_out} (sequential), and {@code mlp_out} ends with
 * {@code + mlp.dense_4h_to_h.bias}; so adding {@code c v} to that bias adds it to
 * {@code hook_mlp_out} and {@code hook_resid_post} of the block, at every position. Likewise
 * {@code attention.dense.bias} for {@code hook_attn_out} and {@code hook_resid_mid}, and the
 * previous block's MLP bias for {@code hook_resid_pre} of block {@code L >= 1}.
 *
 * <p><b>Gemma (no biases): approximate, as a rank-1 LoRA on {@code down_proj}.</b> With
 * {@code B = c v} and {@code A = a^T}, the down projection adds {@code c v (a . h)} for its input
 * {@code h}, so {@code a} should make {@code a . h = 1} on the activations that matter. It is
 * fitted on given rows {@code H = [h_1; ...; h_n]} by ridge least squares,
 * <pre>
 *   a = argmin |H a - 1|^2 + lambda |a|^2,   lambda = ridge * trace(H H^T) / n
 *     = H^T (H H^T + lambda I)^-1 1         (n &lt;= intermediate; else (H^T H + lambda I)^-1 H^T 1)
 * </pre>
 * which interpolates ({@code a . h_i = 1} up to the ridge) when the rows are independent. The
 * relative error of the added vector on any row is {@code |a . h - 1|} ({@link LoraAdapter#error}).
 * Gemma 2 and 3 normalise the MLP output ({@code post_feedforward_layernorm}) before adding it, so
 * no change of {@code down_proj} adds a fixed vector there: refused.
 */
public final class RankOneAdapter {
    private RankOneAdapter() {}

    /** The exact GPT-NeoX bias patch for {@code c v} (see the class comment for which hooks map to which bias). */
    public static BiasPatch biasPatch(Model model, SteeringVector v, double coefficient) {
        ModelConfig c = model.config();
        if (c.architecture() != Architecture.GPT_NEOX) {
            throw new IllegalArgumentException(c.architecture().hfName() + " has no output biases to fold a steering vector into; use a rank-1 LoRA");
        }
        v.requireCompatible(c);
        HookName h = v.hook();
        int layer = h.layer();
        boolean mlp;
        switch (h.point()) {
            case RESID_POST, MLP_OUT -> mlp = true;
            case ATTN_OUT, RESID_MID -> mlp = false;
            case RESID_PRE -> {
                if (layer == 0) throw new IllegalArgumentException("no bias precedes blocks.0.hook_resid_pre (it is the token embedding)");
                layer--;
                mlp = true;
            }
            default -> throw new IllegalStateException("unknown hook point " + h.point());
        }
        LayerWeights w = model.weights().layers()[layer];
        float[] bias = (mlp ? w.downBias() : w.oBias()).clone();
        float[] d = v.direction();
        for (int i = 0; i < bias.length; i++) bias[i] = (float) (bias[i] + coefficient * d[i]);
        String tensor = "gpt_neox.layers." + layer + (mlp ? ".mlp.dense_4h_to_h.bias" : ".attention.dense.bias");
        return new BiasPatch(v, coefficient, layer, tensor, bias);
    }

    /**
     * A rank-1 LoRA on the down projection of the vector's block that adds about {@code c v} to its
     * {@code hook_resid_post} / {@code hook_mlp_out}; {@code h} are down-projection inputs
     * ({@code [rows][intermediate]}, see {@link MlpInputs}) on which {@code a . h = 1} is fitted.
     */
    public static LoraAdapter lora(Model model, SteeringVector v, double coefficient, float[] h, double ridge) {
        ModelConfig c = model.config();
        v.requireCompatible(c);
        if (c.architecture() == Architecture.GEMMA2 || c.architecture() == Architecture.GEMMA3) {
            throw new IllegalArgumentException(c.architecture().hfName() + " normalises the MLP output (post_feedforward_layernorm) before adding it: "
                    + "no change of down_proj adds a fixed vector to the residual stream");
        }
        if (v.hook().point() != HookPoint.RESID_POST && v.hook().point() != HookPoint.MLP_OUT) {
            throw new IllegalArgumentException("a down_proj LoRA adds to blocks.L.hook_mlp_out / hook_resid_post; cannot express " + v.hook());
        }
        if (!(ridge >= 0) || Double.isInfinite(ridge)) throw new IllegalArgumentException("ridge must be a finite number >= 0, got " + ridge);
        float[] a = fitA(h, c.intermediateSize(), ridge);
        float[] b = v.direction();
        for (int i = 0; i < b.length; i++) b[i] = (float) (coefficient * b[i]);
        boolean neox = c.architecture() == Architecture.GPT_NEOX;
        return new LoraAdapter(v, coefficient, v.hook().layer(), neox ? "gpt_neox" : "model", neox ? "mlp.dense_4h_to_h" : "mlp.down_proj", a, b);
    }

    /** {@code a} with {@code H a ~ 1} by ridge least squares (see the class comment). */
    static float[] fitA(float[] h, int ff, double ridge) {
        if (h.length == 0 || h.length % ff != 0) throw new IllegalArgumentException(h.length + " values are not whole rows of width " + ff);
        int n = h.length / ff;
        boolean allZero = true;
        for (float v : h) allZero &= v == 0;
        if (allZero) {
            throw new IllegalArgumentException("every down_proj input of this block is zero on these prompts (" + n
                    + " rows): the MLP adds nothing there for an adapter to act through; pick another layer or other prompts");
        }
        DMatrixRMaj hm = new DMatrixRMaj(n, ff);
        for (int i = 0; i < h.length; i++) hm.data[i] = h[i];
        boolean dual = n <= ff;
        DMatrixRMaj gram = new DMatrixRMaj(dual ? n : ff, dual ? n : ff);
        if (dual) CommonOps_DDRM.multTransB(hm, hm, gram);
        else CommonOps_DDRM.multTransA(hm, hm, gram);
        double lambda = ridge * CommonOps_DDRM.trace(gram) / n;
        for (int i = 0; i < gram.numRows; i++) gram.add(i, i, lambda);
        DMatrixRMaj ones = new DMatrixRMaj(n, 1);
        CommonOps_DDRM.fill(ones, 1);
        DMatrixRMaj rhs = ones;
        if (!dual) {
            rhs = new DMatrixRMaj(ff, 1);
            CommonOps_DDRM.multTransA(hm, ones, rhs);
        }
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.chol(gram.numRows);
        if (!chol.setA(gram)) {
            throw new IllegalArgumentException("the down_proj inputs are linearly dependent (" + n + " rows of width " + ff + ", ridge " + ridge + "): raise the ridge");
        }
        DMatrixRMaj sol = new DMatrixRMaj(gram.numRows, 1);
        chol.solve(rhs, sol);
        DMatrixRMaj a = sol;
        if (dual) {
            a = new DMatrixRMaj(ff, 1);
            CommonOps_DDRM.multTransA(hm, sol, a);
        }
        float[] out = new float[ff];
        for (int i = 0; i < ff; i++) out[i] = (float) a.data[i];
        return out;
    }
}
