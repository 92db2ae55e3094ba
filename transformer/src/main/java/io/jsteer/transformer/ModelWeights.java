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
 * differ by name; shapes are checked against the config here so the forward pass can trust them.
 */
public record ModelWeights(Tensor embed, Norm finalNorm, Tensor lmHead, LayerWeights[] layers) {

    /** Reads and checks every tensor the config's architecture needs. */
    public static ModelWeights load(ModelConfig c, WeightSource w) {
        Shapes s = new Shapes(w);
        int d = c.hiddenSize(), hd = c.headDim(), ff = c.intermediateSize();
        int qRows = c.numHeads() * hd, kvRows = c.numKvHeads() * hd;
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        return switch (c.architecture()) {
            case GPT_NEOX -> {
                for (int l = 0; l < layers.length; l++) {
                    String p = "gpt_neox.layers." + l + ".";
                    layers[l] = new LayerWeights(
                            s.layerNorm(p + "input_layernorm", d, c.normEps()), null,
                            s.layerNorm(p + "post_attention_layernorm", d, c.normEps()), null,
                            s.matrix(p + "attention.query_key_value.weight", 3 * d, d), s.vector(p + "attention.query_key_value.bias", 3 * d),
                            null, null, null, null, null,
                            s.matrix(p + "attention.dense.weight", d, d), s.vector(p + "attention.dense.bias", d),
                            null,
                            s.matrix(p + "mlp.dense_h_to_4h.weight", ff, d), s.vector(p + "mlp.dense_h_to_4h.bias", ff),
                            s.matrix(p + "mlp.dense_4h_to_h.weight", d, ff), s.vector(p + "mlp.dense_4h_to_h.bias", d));
                }
                Tensor embed = s.matrix("gpt_neox.embed_in.weight", c.vocabSize(), d);
                Tensor head = c.tieWordEmbeddings() ? embed : s.matrix("embed_out.weight", c.vocabSize(), d);
                yield new ModelWeights(embed, s.layerNorm("gpt_neox.final_layer_norm", d, c.normEps()), head, layers);
            }
            case GEMMA, GEMMA2, GEMMA3 -> {
                boolean sandwich = c.architecture() != Architecture.GEMMA;
                boolean qkNorm = c.architecture() == Architecture.GEMMA3;
                for (int l = 0; l < layers.length; l++) {
                    String p = "model.layers." + l + ".";
                    layers[l] = new LayerWeights(
                            s.rmsNorm(p + "input_layernorm", d, c.normEps()),
                            sandwich ? s.rmsNorm(p + "post_attention_layernorm", d, c.normEps()) : null,
                            s.rmsNorm(p + (sandwich ? "pre_feedforward_layernorm" : "post_attention_layernorm"), d, c.normEps()),
                            sandwich ? s.rmsNorm(p + "post_feedforward_layernorm", d, c.normEps()) : null,
                            null, null,
                            s.matrix(p + "self_attn.q_proj.weight", qRows, d),
                            s.matrix(p + "self_attn.k_proj.weight", kvRows, d),
                            s.matrix(p + "self_attn.v_proj.weight", kvRows, d),
                            qkNorm ? s.rmsNorm(p + "self_attn.q_norm", hd, c.normEps()) : null,
                            qkNorm ? s.rmsNorm(p + "self_attn.k_norm", hd, c.normEps()) : null,
                            s.matrix(p + "self_attn.o_proj.weight", d, qRows), null,
                            s.matrix(p + "mlp.gate_proj.weight", ff, d),
                            s.matrix(p + "mlp.up_proj.weight", ff, d), null,
                            s.matrix(p + "mlp.down_proj.weight", d, ff), null);
                }
                Tensor embed = s.matrix("model.embed_tokens.weight", c.vocabSize(), d);
                // untied without an lm_head, transformers would start from random weights: refused, not tied silently
                if (!c.tieWordEmbeddings() && !w.has("lm_head.weight")) {
                    throw new WeightsException(w.path(), "config.json says tie_word_embeddings: false but there is no tensor 'lm_head.weight'");
                }
                Tensor head = c.tieWordEmbeddings() ? embed : s.matrix("lm_head.weight", c.vocabSize(), d);
                yield new ModelWeights(embed, s.rmsNorm("model.norm", d, c.normEps()), head, layers);
            }
        };
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

        Norm rmsNorm(String prefix, int n, float eps) {
            return new Norm.RmsNorm(vector(prefix + ".weight", n), eps);
        }
    }
}
