/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.blocks.Norm;
import io.jsteer.weights.Tensor;

/**
 * The parameters of one block, named by role rather than by checkpoint key, so one block
 * implementation serves every family. Absent parts are null.
 *
 * @param attnNorm    norm before attention (input_layernorm)
 * @param attnOutNorm norm of the attention output before the residual add (Gemma 2/3)
 * @param mlpNorm     norm before the MLP (post_attention_layernorm in NeoX/Gemma 1/Llama, pre_feedforward_layernorm in Gemma 2/3)
 * @param mlpOutNorm  norm of the MLP output before the residual add (Gemma 2/3)
 * @param qkv         GPT-NeoX fused projection, rows grouped per head as {@code [head][q|k|v][head_dim]}
 * @param qBias       bias of the separate q projection (Qwen 2; Llama and Qwen 3 with attention_bias), likewise kBias, vBias
 * @param qNorm       per-head RMSNorm of queries (Gemma 3, Qwen 3)
 * @param gate        gate projection of a gated MLP (Gemma, Llama), null for a plain MLP
 * @param gateBias    bias of the gate projection (Llama with mlp_bias)
 */
public record LayerWeights(
        Norm attnNorm, Norm attnOutNorm, Norm mlpNorm, Norm mlpOutNorm,
        Tensor qkv, float[] qkvBias,
        Tensor q, Tensor k, Tensor v,
        float[] qBias, float[] kBias, float[] vBias,
        Norm qNorm, Norm kNorm,
        Tensor o, float[] oBias,
        Tensor gate, float[] gateBias, Tensor up, float[] upBias, Tensor down, float[] downBias) {

    /** These weights with another MLP down projection and bias. */
    public LayerWeights withDown(Tensor down, float[] downBias) {
        return new LayerWeights(attnNorm, attnOutNorm, mlpNorm, mlpOutNorm, qkv, qkvBias, q, k, v, qBias, kBias, vBias,
                qNorm, kNorm, o, oBias, gate, gateBias, up, upBias, down, downBias);
    }

    /** These weights with another attention output bias. */
    public LayerWeights withOBias(float[] oBias) {
        return new LayerWeights(attnNorm, attnOutNorm, mlpNorm, mlpOutNorm, qkv, qkvBias, q, k, v, qBias, kBias, vBias,
                qNorm, kNorm, o, oBias, gate, gateBias, up, upBias, down, downBias);
    }
}
