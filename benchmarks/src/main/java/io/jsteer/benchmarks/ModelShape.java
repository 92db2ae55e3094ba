/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsteer.weights.DType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The published shapes the benchmarks reproduce with random weights: what a forward pass costs
 * depends on the shapes and the dtype, not on the values.
 */
public enum ModelShape {
    /** EleutherAI/pythia-160m: GPT-NeoX, parallel residual, untied unembedding. */
    PYTHIA_160M("pythia-160m", false, 768, 12, 12, 12, 64, 3072, 50304),
    /** EleutherAI/pythia-410m. */
    PYTHIA_410M("pythia-410m", false, 1024, 24, 16, 16, 64, 4096, 50304),
    /** google/gemma-2-2b: grouped KV heads, sliding window every other layer, soft-caps, tied unembedding. */
    GEMMA2_2B("gemma-2-2b", true, 2304, 26, 8, 4, 256, 9216, 256000);

    public final String id;
    public final boolean gemma;
    public final int hidden, layers, heads, kvHeads, headDim, ff, vocab;

    ModelShape(String id, boolean gemma, int hidden, int layers, int heads, int kvHeads, int headDim, int ff, int vocab) {
        this.id = id;
        this.gemma = gemma;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.ff = ff;
        this.vocab = vocab;
    }

    /** The shape named {@code id}, e.g. {@code pythia-160m}. */
    public static ModelShape of(String id) {
        for (ModelShape s : values()) if (s.id.equals(id)) return s;
        throw new IllegalArgumentException("unknown model shape '" + id + "': expected one of pythia-160m, pythia-410m, gemma-2-2b");
    }

    /** Directory name of this shape stored as {@code dtype}, e.g. {@code pythia-160m-bf16}. */
    public String dirName(DType dtype) {
        return id + "-" + dtype.name().toLowerCase(Locale.ROOT);
    }

    /** Every tensor of the checkpoint and its shape, in the Hugging Face naming of the family. */
    public Map<String, long[]> tensors() {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = hidden, q = (long) heads * headDim, kv = (long) kvHeads * headDim;
        for (int l = 0; l < layers; l++) {
            if (gemma) {
                String p = "model.layers." + l + ".";
                for (String n : new String[] {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"}) {
                    t.put(p + n + ".weight", new long[] {d});
                }
                t.put(p + "self_attn.q_proj.weight", new long[] {q, d});
                t.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
                t.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
                t.put(p + "self_attn.o_proj.weight", new long[] {d, q});
                t.put(p + "mlp.gate_proj.weight", new long[] {ff, d});
                t.put(p + "mlp.up_proj.weight", new long[] {ff, d});
                t.put(p + "mlp.down_proj.weight", new long[] {d, ff});
            } else {
                String p = "gpt_neox.layers." + l + ".";
                for (String n : new String[] {"input_layernorm", "post_attention_layernorm"}) {
                    t.put(p + n + ".weight", new long[] {d});
                    t.put(p + n + ".bias", new long[] {d});
                }
                t.put(p + "attention.query_key_value.weight", new long[] {3 * d, d});
                t.put(p + "attention.query_key_value.bias", new long[] {3 * d});
                t.put(p + "attention.dense.weight", new long[] {d, d});
                t.put(p + "attention.dense.bias", new long[] {d});
                t.put(p + "mlp.dense_h_to_4h.weight", new long[] {ff, d});
                t.put(p + "mlp.dense_h_to_4h.bias", new long[] {ff});
                t.put(p + "mlp.dense_4h_to_h.weight", new long[] {d, ff});
                t.put(p + "mlp.dense_4h_to_h.bias", new long[] {d});
            }
        }
        if (gemma) {
            t.put("model.embed_tokens.weight", new long[] {vocab, d});
            t.put("model.norm.weight", new long[] {d});
        } else {
            t.put("gpt_neox.embed_in.weight", new long[] {vocab, d});
            t.put("gpt_neox.final_layer_norm.weight", new long[] {d});
            t.put("gpt_neox.final_layer_norm.bias", new long[] {d});
            t.put("embed_out.weight", new long[] {vocab, d});
        }
        return t;
    }

    /**
     * Elements of the mapped weights a decoded token reads: every matrix in full, except Pythia's
     * untied input embedding of which one row. (Norm weights and biases are copied to the heap
     * at load and are too small to count.)
     */
    public long elementsPerToken() {
        long n = 0;
        for (Map.Entry<String, long[]> e : tensors().entrySet()) {
            long[] s = e.getValue();
            if (s.length == 2) n += e.getKey().endsWith("embed_in.weight") ? s[1] : s[0] * s[1];
        }
        return n;
    }

    /** The config.json of the original model (dtype aside), enough for {@code ModelConfig}. */
    public ObjectNode config(ObjectMapper json, DType dtype) {
        ObjectNode c = json.createObjectNode();
        String torchDtype = switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException(dtype + " checkpoints are GGUF files, not safetensors");
        };
        c.put("torch_dtype", torchDtype);
        c.put("hidden_size", hidden);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("intermediate_size", ff);
        c.put("vocab_size", vocab);
        if (gemma) {
            c.putArray("architectures").add("Gemma2ForCausalLM");
            c.put("model_type", "gemma2");
            c.put("num_key_value_heads", kvHeads);
            c.put("head_dim", headDim);
            c.put("hidden_activation", "gelu_pytorch_tanh");
            c.put("max_position_embeddings", 8192);
            c.put("rms_norm_eps", 1e-6);
            c.put("rope_theta", 10000.0);
            c.put("sliding_window", 4096);
            c.put("attn_logit_softcapping", 50.0);
            c.put("final_logit_softcapping", 30.0);
            c.put("query_pre_attn_scalar", 256);
            c.put("tie_word_embeddings", true);
            c.put("bos_token_id", 2);
            c.put("eos_token_id", 1);
            c.put("pad_token_id", 0);
        } else {
            c.putArray("architectures").add("GPTNeoXForCausalLM");
            c.put("model_type", "gpt_neox");
            c.put("hidden_act", "gelu");
            c.put("layer_norm_eps", 1e-5);
            c.put("max_position_embeddings", 2048);
            c.put("rotary_pct", 0.25);
            c.put("rotary_emb_base", 10000);
            c.put("use_parallel_residual", true);
            c.put("tie_word_embeddings", false);
            c.put("bos_token_id", 0);
            c.put("eos_token_id", 0);
        }
        return c;
    }
}
