/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.blocks.Norm;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.Tensor;
import io.jsteer.weights.WeightSource;
import io.jsteer.weights.WeightsException;

/**
 * Maps a checkpoint's tensor names onto block roles. This is the only place where the families
 * differ by name (one method per family); shapes are checked against the config here so the
 * forward pass can trust them.
 */
public record ModelWeights(Tensor embed, Norm finalNorm, Tensor lmHead, LayerWeights[] layers) {

    /** Reads and checks every tensor the config's architecture needs. */
    public static ModelWeights load(ModelConfig c, WeightSource w) {
        Shapes s = new Shapes(w);
        return switch (c.architecture()) {
            case GPT_NEOX -> gptNeox(c, s);
            case GEMMA, GEMMA2, GEMMA3 -> gemma(c, s, w);
            case LLAMA, MISTRAL, QWEN2, QWEN3 -> llama(c, s);
        };
    }

    /** GPT-NeoX / Pythia: fused per-head qkv, LayerNorms and biases everywhere. */
    private static ModelWeights gptNeox(ModelConfig c, Shapes s) {
        int d = c.hiddenSize(), ff = c.intermediateSize();
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "gpt_neox.layers." + l + ".", a = p + "attention.";
            // HF fuses q, k, v per head; a GGUF file regroups them, offered as three projections (GgufModel)
            boolean fused = s.w().has(a + "query_key_value.weight");
            layers[l] = new LayerWeights(
                    s.layerNorm(p + "input_layernorm", d, c.normEps()), null,
                    s.layerNorm(p + "post_attention_layernorm", d, c.normEps()), null,
                    fused ? s.matrix(a + "query_key_value.weight", 3 * d, d) : null, fused ? s.vector(a + "query_key_value.bias", 3 * d) : null,
                    fused ? null : s.matrix(a + "query.weight", d, d), fused ? null : s.matrix(a + "key.weight", d, d),
                    fused ? null : s.matrix(a + "value.weight", d, d),
                    fused ? null : s.vector(a + "query.bias", d), fused ? null : s.vector(a + "key.bias", d),
                    fused ? null : s.vector(a + "value.bias", d),
                    null, null,
                    s.matrix(p + "attention.dense.weight", d, d), s.vector(p + "attention.dense.bias", d),
                    null, null,
                    s.matrix(p + "mlp.dense_h_to_4h.weight", ff, d), s.vector(p + "mlp.dense_h_to_4h.bias", ff),
                    s.matrix(p + "mlp.dense_4h_to_h.weight", d, ff), s.vector(p + "mlp.dense_4h_to_h.bias", d));
        }
        Tensor embed = s.matrix("gpt_neox.embed_in.weight", c.vocabSize(), d);
        Tensor head = c.tieWordEmbeddings() ? embed : s.matrix("embed_out.weight", c.vocabSize(), d);
        return new ModelWeights(embed, s.layerNorm("gpt_neox.final_layer_norm", d, c.normEps()), head, layers);
    }

    /**
     * Gemma 1/2/3: RMSNorm weights stored as offsets from one; Gemma 2/3 add norms after the
     * attention and the MLP ("sandwich"); Gemma 3 norms queries and keys per head.
     */
    private static ModelWeights gemma(ModelConfig c, Shapes s, WeightSource w) {
        int d = c.hiddenSize(), hd = c.headDim(), ff = c.intermediateSize();
        int qRows = c.numHeads() * hd, kvRows = c.numKvHeads() * hd;
        float eps = c.normEps();
        boolean sandwich = c.architecture() != Architecture.GEMMA;
        boolean qkNorm = c.architecture() == Architecture.GEMMA3;
        boolean bias = c.attentionBias();
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new LayerWeights(
                    s.rmsNorm(p + "input_layernorm", d, eps, 1),
                    sandwich ? s.rmsNorm(p + "post_attention_layernorm", d, eps, 1) : null,
                    s.rmsNorm(p + (sandwich ? "pre_feedforward_layernorm" : "post_attention_layernorm"), d, eps, 1),
                    sandwich ? s.rmsNorm(p + "post_feedforward_layernorm", d, eps, 1) : null,
                    null, null,
                    s.matrix(p + "self_attn.q_proj.weight", qRows, d),
                    s.matrix(p + "self_attn.k_proj.weight", kvRows, d),
                    s.matrix(p + "self_attn.v_proj.weight", kvRows, d),
                    s.optionalVector(bias, p + "self_attn.q_proj.bias", qRows),
                    s.optionalVector(bias, p + "self_attn.k_proj.bias", kvRows),
                    s.optionalVector(bias, p + "self_attn.v_proj.bias", kvRows),
                    qkNorm ? s.rmsNorm(p + "self_attn.q_norm", hd, eps, 1) : null,
                    qkNorm ? s.rmsNorm(p + "self_attn.k_norm", hd, eps, 1) : null,
                    s.matrix(p + "self_attn.o_proj.weight", d, qRows), s.optionalVector(bias, p + "self_attn.o_proj.bias", d),
                    s.matrix(p + "mlp.gate_proj.weight", ff, d), null,
                    s.matrix(p + "mlp.up_proj.weight", ff, d), null,
                    s.matrix(p + "mlp.down_proj.weight", d, ff), null);
        }
        Tensor embed = s.matrix("model.embed_tokens.weight", c.vocabSize(), d);
        // untied without an lm_head, transformers would start from random weights: refused, not tied silently
        if (!c.tieWordEmbeddings() && !w.has("lm_head.weight")) {
            throw new WeightsException(w.path(), "config.json says tie_word_embeddings: false but there is no tensor 'lm_head.weight'");
        }
        Tensor head = c.tieWordEmbeddings() ? embed : s.matrix("lm_head.weight", c.vocabSize(), d);
        return new ModelWeights(embed, s.rmsNorm("model.norm", d, eps, 1), head, layers);
    }

    /**
     * Llama 2/3, Mistral, Qwen 2 and Qwen 3 share Llama's names: RMSNorm with the scale stored as
     * is, SwiGLU. Their quirks: q/k/v (and output) biases with attention_bias (Llama, Qwen 3) or
     * always q/k/v (Qwen 2, {@link ModelConfig#qkvBias}); MLP biases with mlp_bias (Llama); per-head
     * q/k RMSNorm (Qwen 3); lm_head absent when tied (Llama 3.2 1B/3B, small Qwen).
     */
    private static ModelWeights llama(ModelConfig c, Shapes s) {
        int d = c.hiddenSize(), hd = c.headDim(), ff = c.intermediateSize();
        int qRows = c.numHeads() * hd, kvRows = c.numKvHeads() * hd;
        float eps = c.normEps();
        boolean qkvBias = c.qkvBias(), oBias = c.attentionBias(), mlpBias = c.mlpBias();
        boolean qkNorm = c.architecture() == Architecture.QWEN3;
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new LayerWeights(
                    s.rmsNorm(p + "input_layernorm", d, eps, 0), null,
                    s.rmsNorm(p + "post_attention_layernorm", d, eps, 0), null,
                    null, null,
                    s.matrix(p + "self_attn.q_proj.weight", qRows, d),
                    s.matrix(p + "self_attn.k_proj.weight", kvRows, d),
                    s.matrix(p + "self_attn.v_proj.weight", kvRows, d),
                    s.optionalVector(qkvBias, p + "self_attn.q_proj.bias", qRows),
                    s.optionalVector(qkvBias, p + "self_attn.k_proj.bias", kvRows),
                    s.optionalVector(qkvBias, p + "self_attn.v_proj.bias", kvRows),
                    qkNorm ? s.rmsNorm(p + "self_attn.q_norm", hd, eps, 0) : null,
                    qkNorm ? s.rmsNorm(p + "self_attn.k_norm", hd, eps, 0) : null,
                    s.matrix(p + "self_attn.o_proj.weight", d, qRows), s.optionalVector(oBias, p + "self_attn.o_proj.bias", d),
                    s.matrix(p + "mlp.gate_proj.weight", ff, d), s.optionalVector(mlpBias, p + "mlp.gate_proj.bias", ff),
                    s.matrix(p + "mlp.up_proj.weight", ff, d), s.optionalVector(mlpBias, p + "mlp.up_proj.bias", ff),
                    s.matrix(p + "mlp.down_proj.weight", d, ff), s.optionalVector(mlpBias, p + "mlp.down_proj.bias", d));
        }
        Tensor embed = s.matrix("model.embed_tokens.weight", c.vocabSize(), d);
        // tied: HF points lm_head at the embedding whether or not the file also stores it
        Tensor head = c.tieWordEmbeddings() ? embed : s.matrix("lm_head.weight", c.vocabSize(), d);
        return new ModelWeights(embed, s.rmsNorm("model.norm", d, eps, 0), head, layers);
    }

    /** Looks tensors up with their expected shapes, failing with the checkpoint and tensor named. */
    private record Shapes(WeightSource w) {
        Tensor matrix(String name, int rows, int cols) {
            return w.expectShape(name, rows, cols);
        }

        float[] vector(String name, int n) {
            return w.expectShape(name, n).toFloatArray();
        }

        Norm layerNorm(String prefix, int n, float eps) {
            return new Norm.LayerNorm(vector(prefix + ".weight", n), vector(prefix + ".bias", n), eps);
        }

        float[] optionalVector(boolean present, String name, int n) {
            return present ? vector(name, n) : null;
        }

        Norm rmsNorm(String prefix, int n, float eps, float offset) {
            return new Norm.RmsNorm(vector(prefix + ".weight", n), eps, offset);
        }
    }
}
