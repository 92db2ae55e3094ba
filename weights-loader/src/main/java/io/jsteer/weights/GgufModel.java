/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A llama.cpp model file: the hyper-parameters of its metadata as a {@link ModelConfig}, and its
 * tensors under the Hugging Face names the families' weight maps use, so a GGUF file and a model
 * folder load through the same code.
 *
 * <p>Architectures: {@code gptneox}, {@code gemma}, {@code gemma2}, {@code gemma3}, {@code llama}
 * (Llama 2/3 and Mistral, which llama.cpp writes as llama), {@code qwen2}, {@code qwen3}.
 *
 * <p>What the file means is what llama.cpp makes of it ({@code src/models/*.cpp}), including its
 * defaults for absent keys. Where llama.cpp's converter ({@code convert_hf_to_gguf.py}) changed a
 * tensor, the change is undone here:
 * <ul>
 *   <li>Gemma's RMSNorm weights are stored as {@code 1 + w}; the norm multiplies by {@code 1 + w},
 *       so one is subtracted again (exact for the float32 values the converter writes in [0.5, 2]).
 *   <li>GPT-NeoX's fused query/key/value rows are regrouped from {@code [head][q|k|v]} to
 *       {@code [q|k|v][head]}; its three row blocks are offered as separate projections
 *       ({@code attention.query.weight} etc.), slices of the mapped file, instead of copying the
 *       rows back into the per-head order.
 *   <li>Llama's q and k rows are permuted within each head for llama.cpp's interleaved RoPE; they
 *       are put back in order in memory of their own (q and k only: about a tenth of a layer).
 * </ul>
 * The activation of each family is the one of its Hugging Face implementation (exact erf GELU for
 * GPT-NeoX, where llama.cpp uses the tanh approximation). Llama 3.1/3.2's rope scaling arrives as
 * the per-dimension factors the converter computed from it ({@code rope_freqs.weight}); they divide
 * the inverse frequencies, as in llama.cpp ({@link RopeScaling#factors}).
 */
public final class GgufModel {
    private GgufModel() {}

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    /** llama.cpp's per-dimension RoPE frequency factors (LLM_TENSOR_ROPE_FREQS). */
    static final String ROPE_FREQS = "rope_freqs.weight";

    /** The config and the renamed tensors of a GGUF model file; the file stays mapped until the source is closed. */
    public record Loaded(ModelConfig config, WeightSource weights) {}

    /** Maps {@code file} and reads its model. */
    public static Loaded open(Path file) {
        GgufFile g = GgufFile.read(file);
        try {
            ModelConfig config = config(g);
            return new Loaded(config, new Renamed(g, names(g, config)));
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** The architecture named by {@code general.architecture}. */
    static Architecture architecture(GgufFile g) {
        Object a = g.metadata().get("general.architecture");
        if (!(a instanceof String s)) throw new WeightsException(g.path(), "missing 'general.architecture' (a string), so this is not a model file");
        return switch (s) {
            case "gptneox" -> Architecture.GPT_NEOX;
            case "gemma" -> Architecture.GEMMA;
            case "gemma2" -> Architecture.GEMMA2;
            case "gemma3" -> Architecture.GEMMA3;
            // llama.cpp writes Llama 2/3 and Mistral 7B as "llama" (Mistral's sliding window is not kept)
            case "llama" -> Architecture.LLAMA;
            case "qwen2" -> Architecture.QWEN2;
            case "qwen3" -> Architecture.QWEN3;
            default -> throw new WeightsException(g.path(), "general.architecture '" + s
                    + "' is not supported (supported: gptneox, gemma, gemma2, gemma3, llama, qwen2, qwen3)");
        };
    }

    /** The hyper-parameters, with llama.cpp's defaults for the optional keys. */
    static ModelConfig config(GgufFile g) {
        Architecture arch = architecture(g);
        String p = (String) g.metadata().get("general.architecture") + ".";
        Meta m = new Meta(g);
        int hidden = m.positiveInt(p + "embedding_length");
        int layers = m.positiveInt(p + "block_count");
        int inter = m.positiveInt(p + "feed_forward_length");
        int heads = m.positiveInt(p + "attention.head_count");
        int kvHeads = m.positiveInt(p + "attention.head_count_kv", heads);
        int headDim = m.positiveInt(p + "attention.key_length", hidden / heads);
        int valueDim = m.positiveInt(p + "attention.value_length", headDim);
        if (valueDim != headDim) throw new WeightsException(g.path(), "'" + p + "attention.value_length' " + valueDim + " differs from key_length " + headDim + ", which is not supported");
        if (heads % kvHeads != 0) throw new WeightsException(g.path(), "'" + p + "attention.head_count' " + heads + " is not a multiple of head_count_kv " + kvHeads);
        if (!g.has("token_embd.weight")) throw new WeightsException(g.path(), "missing tensor 'token_embd.weight'");
        Tensor embed = g.tensor("token_embd.weight");
        if (embed.rank() != 2) throw new WeightsException(g.path(), "token_embd.weight", "is not a matrix");
        int vocab = embed.dim(0);
        boolean neox = arch == Architecture.GPT_NEOX;

        double theta = m.number(p + "rope.freq_base", 10000);
        RopeScaling scaling = RopeScaling.NONE;
        String scalingType = m.string(p + "rope.scaling.type", "linear");
        double factor = m.number(p + "rope.scaling.factor", m.number(p + "rope.scale_linear", 0));
        if (factor != 0 && factor != 1 && !scalingType.equals("none")) {
            if (!scalingType.equals("linear")) throw new WeightsException(g.path(), "'" + p + "rope.scaling.type' '" + scalingType + "' is not supported (linear is)");
            scaling = RopeScaling.linear(factor);
        }
        int window = 0, pattern = 0;
        double localTheta = theta;
        if (arch == Architecture.GEMMA2) {
            window = m.positiveInt(p + "attention.sliding_window", 4096);
            pattern = m.pattern(p + "attention.sliding_window_pattern", 2, layers);
            if (pattern != 2) throw new WeightsException(g.path(), "'" + p + "attention.sliding_window_pattern' " + pattern + " is not supported for gemma2 (2 is)");
            localTheta = m.number(p + "rope.freq_base_swa", theta);
        } else if (arch == Architecture.GEMMA3) {
            window = m.positiveInt(p + "attention.sliding_window", 0);
            // no window: no layer slides (a period of one makes every layer global)
            pattern = window > 0 ? m.pattern(p + "attention.sliding_window_pattern", 6, layers) : 1;
            localTheta = window > 0 ? m.number(p + "rope.freq_base_swa", 10000) : theta;
        }
        // llama.cpp: 1/sqrt(head_dim), except Gemma 2/3 27B (46 and 62 layers), which use
        // query_pre_attn_scalar = hidden / heads (src/models/gemma2.cpp, gemma3.cpp)
        boolean is27b = (arch == Architecture.GEMMA2 && layers == 46) || (arch == Architecture.GEMMA3 && layers == 62);
        float scale = (float) (1 / Math.sqrt(is27b ? (double) hidden / heads : headDim));
        int rotary = m.positiveInt(p + "rope.dimension_count", headDim);
        if (!neox && rotary != headDim) throw new WeightsException(g.path(), "'" + p + "rope.dimension_count' " + rotary + " differs from the head size " + headDim + ", which is not supported for " + arch.hfName());
        if (g.has(ROPE_FREQS)) {
            // llama.cpp reads the tensor for llama (and families jsteer does not load); a qwen2 or gemma file holding one is malformed
            if (arch != Architecture.LLAMA) throw new WeightsException(g.path(), ROPE_FREQS, "per-dimension RoPE factors belong to llama files, not " + p.substring(0, p.length() - 1));
            if (scaling.type() != RopeScaling.Type.NONE) {
                throw new WeightsException(g.path(), ROPE_FREQS, "per-dimension RoPE factors together with '" + p + "rope.scaling.type' " + scalingType + " are not supported");
            }
            scaling = RopeScaling.factors(ropeFactors(g, rotary));
        }
        // biases are known from the tensors present; Qwen 2's q/k/v biases are implied by its family
        boolean attentionBias = neox || (arch != Architecture.QWEN2 && !arch.isGemma() && g.has("blk.0.attn_q.bias"));
        return new ModelConfig(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim,
                (float) m.number(p + (neox ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"), neox ? 1e-5 : 1e-6),
                neox ? Activation.GELU_ERF : arch.isGemma() ? Activation.GELU_TANH : Activation.SILU,
                theta, localTheta, scaling, rotary,
                neox && m.bool(p + "use_parallel_residual", true),
                attentionBias,
                arch == Architecture.LLAMA && g.has("blk.0.ffn_gate.bias"),
                !g.has("output.weight"),
                window, pattern,
                arch == Architecture.GEMMA2 ? (float) m.number(p + "attn_logit_softcapping", 50) : 0,
                arch == Architecture.GEMMA2 ? (float) m.number(p + "final_logit_softcapping", 30)
                        : arch == Architecture.GEMMA3 ? (float) m.number(p + "final_logit_softcapping", 0) : 0,
                scale,
                m.positiveInt(p + "context_length", 8192),
                (int) m.integer("tokenizer.ggml.bos_token_id", -1),
                m.eosIds());
    }

    /**
     * The factors of {@code rope_freqs.weight}: F32 of shape {@code [rotary/2]}, as llama.cpp creates
     * the tensor ({@code {n_rot/2}} in llama-model.cpp) and ggml's rope requires, each a divisor that
     * keeps the frequency positive and finite (a normal float: a subnormal one overflows it).
     */
    private static float[] ropeFactors(GgufFile g, int rotary) {
        Tensor t = g.tensor(ROPE_FREQS);
        if (t.dtype() != DType.F32 || t.rank() != 1 || t.shape()[0] != rotary / 2) {
            throw new WeightsException(g.path(), ROPE_FREQS, "must be F32 of shape [" + rotary / 2 + "] (one factor per rotated pair of "
                    + rotary + " dimensions), got " + t.dtype() + " " + Arrays.toString(t.shape()));
        }
        float[] f = t.toFloatArray();
        for (int i = 0; i < f.length; i++) {
            if (!(f[i] >= Float.MIN_NORMAL && f[i] <= Float.MAX_VALUE)) {
                throw new WeightsException(g.path(), ROPE_FREQS, "factor " + i + " is " + f[i] + "; RoPE frequency factors must be positive, finite and normal");
            }
        }
        return f;
    }

    /** Hugging Face tensor name to the GGUF tensor (transformed where the converter changed it). */
    static Map<String, Supplier<Tensor>> names(GgufFile g, ModelConfig c) {
        Map<String, Supplier<Tensor>> out = new LinkedHashMap<>();
        Architecture arch = c.architecture();
        boolean neox = arch == Architecture.GPT_NEOX;
        boolean sandwich = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3;
        String model = neox ? "gpt_neox." : "model.";
        for (GgufFile.TensorInfo t : g.tensors()) {
            String name = t.name();
            int dot = name.lastIndexOf('.');
            if (dot < 0) continue;
            String base = name.substring(0, dot), suffix = name.substring(dot);
            Matcher blk = BLOCK.matcher(base);
            Supplier<Tensor> plain = () -> g.tensor(name);
            Supplier<Tensor> get = arch.isGemma() && base.endsWith("norm") ? () -> minusOne(g.tensor(name)) : plain;
            if (blk.matches()) {
                String layer = model + "layers." + blk.group(1) + ".", role = blk.group(2);
                if (neox && role.equals("attn_qkv")) {
                    String[] parts = {"query", "key", "value"};
                    for (int i = 0; i < 3; i++) {
                        int part = i;
                        out.put(layer + "attention." + parts[i] + suffix, () -> third(g.tensor(name), part, g.path()));
                    }
                    continue;
                }
                // llama.cpp's "llama" rotates interleaved pairs, so the converter permuted q and k rows per head
                if (arch == Architecture.LLAMA && (role.equals("attn_q") || role.equals("attn_k"))) {
                    int headsHere = role.equals("attn_q") ? c.numHeads() : c.numKvHeads();
                    get = () -> unpermute(g.tensor(name), headsHere, g.path());
                }
                String hf = neox ? switch (role) {
                    case "attn_norm" -> "input_layernorm";
                    case "ffn_norm" -> "post_attention_layernorm";
                    case "attn_output" -> "attention.dense";
                    case "ffn_up" -> "mlp.dense_h_to_4h";
                    case "ffn_down" -> "mlp.dense_4h_to_h";
                    default -> null;
                } : switch (role) {
                    case "attn_norm" -> "input_layernorm";
                    case "ffn_norm" -> sandwich ? "pre_feedforward_layernorm" : "post_attention_layernorm";
                    case "post_attention_norm" -> "post_attention_layernorm";
                    case "post_ffw_norm" -> "post_feedforward_layernorm";
                    case "attn_q" -> "self_attn.q_proj";
                    case "attn_k" -> "self_attn.k_proj";
                    case "attn_v" -> "self_attn.v_proj";
                    case "attn_output" -> "self_attn.o_proj";
                    case "attn_q_norm" -> "self_attn.q_norm";
                    case "attn_k_norm" -> "self_attn.k_norm";
                    case "ffn_gate" -> "mlp.gate_proj";
                    case "ffn_up" -> "mlp.up_proj";
                    case "ffn_down" -> "mlp.down_proj";
                    default -> null;
                };
                if (hf != null) out.put(layer + hf + suffix, get);
            } else {
                String hf = switch (base) {
                    case "token_embd" -> neox ? "gpt_neox.embed_in" : "model.embed_tokens";
                    case "output" -> neox ? "embed_out" : "lm_head";
                    case "output_norm" -> neox ? "gpt_neox.final_layer_norm" : "model.norm";
                    default -> null;
                };
                if (hf != null) out.put(hf + suffix, get);
            }
        }
        return out;
    }

    /**
     * Undoes convert_hf_to_gguf.py's {@code LlamaModel.permute} of q or k: within each head, GGUF
     * row {@code 2i + a} is Hugging Face row {@code a * headDim/2 + i}. Rows are whole blocks in
     * every stored type, so they are moved as bytes, into memory of their own (the mapped file
     * cannot be reordered in place).
     */
    private static Tensor unpermute(Tensor t, int heads, Path file) {
        long rows = t.shape()[0];
        if (rows % (2L * heads) != 0) throw new WeightsException(file, t.name(), "has " + rows + " rows, not " + heads + " heads of an even size");
        int half = (int) (rows / heads / 2);
        long rowBytes = t.rank() == 1 ? t.dtype().bytesOf(1) : t.rowBytes();
        MemorySegment out = Arena.ofAuto().allocate(rowBytes * rows, 64);
        for (long h = 0; h < heads; h++) {
            for (int a = 0; a < 2; a++) {
                for (int i = 0; i < half; i++) {
                    long from = h * 2 * half + 2L * i + a, to = h * 2 * half + (long) a * half + i;
                    MemorySegment.copy(t.data(), from * rowBytes, out, to * rowBytes, rowBytes);
                }
            }
        }
        return new Tensor(t.name(), t.dtype(), t.shape(), out);
    }

    /** A stored {@code 1 + w} norm weight back as {@code w}. */
    private static Tensor minusOne(Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] -= 1;
        return Tensor.of(t.name(), v, t.shape());
    }

    /** Row block {@code part} (0 query, 1 key, 2 value) of GPT-NeoX's regrouped fused projection or its bias. */
    private static Tensor third(Tensor t, int part, Path file) {
        long rows = t.shape()[0];
        if (rows % 3 != 0) throw new WeightsException(file, t.name(), "has " + rows + " rows, not three equal blocks of query, key and value");
        long[] shape = t.shape().clone();
        shape[0] = rows / 3;
        long bytes = t.dtype().bytesOf(t.size() / 3);
        return new Tensor(t.name() + "[" + part + "/3]", t.dtype(), shape, t.data().asSlice(part * bytes, bytes));
    }

    /** The GGUF file with its tensors under Hugging Face names. */
    private record Renamed(GgufFile g, Map<String, Supplier<Tensor>> byName) implements WeightSource {
        @Override
        public boolean has(String name) {
            return byName.containsKey(name);
        }

        @Override
        public Tensor tensor(String name) {
            Supplier<Tensor> t = byName.get(name);
            if (t == null) throw new WeightsException(g.path(), "missing tensor '" + name + "'");
            return t.get();
        }

        @Override
        public Set<String> names() {
            return Collections.unmodifiableSet(byName.keySet());
        }

        @Override
        public Path path() {
            return g.path();
        }

        @Override
        public void close() {
            g.close();
        }
    }

    /** Typed metadata access with errors naming the file and the key. */
    private record Meta(GgufFile g) {
        private Object get(String key) {
            return g.metadata().get(key);
        }

        long integer(String key, long dflt) {
            Object v = get(key);
            if (v == null) return dflt;
            if (!(v instanceof Long l)) throw new WeightsException(g.path(), "'" + key + "' must be an integer, got " + v);
            return l;
        }

        int positiveInt(String key) {
            if (get(key) == null) throw new WeightsException(g.path(), "missing '" + key + "'");
            return positiveInt(key, 0);
        }

        int positiveInt(String key, int dflt) {
            Object v = get(key);
            if (v == null) return dflt;
            if (!(v instanceof Long l) || l <= 0 || l > Integer.MAX_VALUE) throw new WeightsException(g.path(), "'" + key + "' must be a positive integer, got " + v);
            return (int) (long) l;
        }

        double number(String key, double dflt) {
            Object v = get(key);
            if (v == null) return dflt;
            if (v instanceof Double d) return d;
            if (v instanceof Long l) return l;
            throw new WeightsException(g.path(), "'" + key + "' must be a number, got " + v);
        }

        boolean bool(String key, boolean dflt) {
            Object v = get(key);
            if (v == null) return dflt;
            if (!(v instanceof Boolean b)) throw new WeightsException(g.path(), "'" + key + "' must be true or false, got " + v);
            return b;
        }

        String string(String key, String dflt) {
            Object v = get(key);
            if (v == null) return dflt;
            if (!(v instanceof String s)) throw new WeightsException(g.path(), "'" + key + "' must be a string, got " + v);
            return s;
        }

        /**
         * The sliding-window period: an integer (every period-th layer global), or llama.cpp's newer
         * per-layer list of booleans (true = sliding), which must follow such a period.
         */
        int pattern(String key, int dflt, int layers) {
            Object v = get(key);
            if (v == null) return dflt;
            if (v instanceof Long l && l > 0 && l <= layers + 1) return (int) (long) l;
            if (v instanceof List<?> list && list.size() == layers && list.stream().allMatch(o -> o instanceof Boolean)) {
                int period = list.indexOf(false) + 1;
                for (int l = 0; l < layers && period > 0; l++) {
                    if ((Boolean) list.get(l) != ((l + 1) % period != 0)) period = 0;
                }
                if (period > 0) return period;
            }
            throw new WeightsException(g.path(), "'" + key + "' must be a period or a per-layer list following one, got " + v);
        }

        /** End-of-sequence ids: the eos token and, when present, the end-of-turn token (Gemma's end_of_turn). */
        int[] eosIds() {
            long eos = integer("tokenizer.ggml.eos_token_id", -1), eot = integer("tokenizer.ggml.eot_token_id", -1);
            return Arrays.stream(new long[] {eos, eot}).filter(i -> i >= 0).distinct().mapToInt(i -> (int) i).toArray();
        }
    }
}
