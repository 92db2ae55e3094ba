/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import io.jsteer.weights.GgufFile.Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a Hugging Face checkpoint as a GGUF model file the way llama.cpp's
 * {@code convert_hf_to_gguf.py} (and, for Q8_0/Q4_0, {@code llama-quantize}) writes it, so that
 * llama.cpp and jsteer both read it: hyper-parameters under llama.cpp's keys, tensors under its
 * names with the converter's changes (GPT-NeoX query_key_value rows regrouped from [head][q|k|v] to
 * [q|k|v][head], Gemma norms stored as {@code 1 + w}, Llama/Mistral q and k rows permuted per head
 * for llama.cpp's interleaved RoPE, tied output matrices dropped, Llama 3's rope scaling as the
 * {@code rope_freqs.weight} factors the converter computes), 1-D tensors as F32 and matrices in
 * the chosen type (F16 where a row is not a whole number of blocks, as the converter falls back).
 * Q8_0/Q4_0 blocks are encoded as llama-quantize's reference code encodes them ({@link Quants}).
 * The vocabulary comes from a tokenizer.json ({@link GgufVocabulary}) or is copied from another
 * GGUF file's {@code tokenizer.*} entries. The file is written atomically ({@link GgufFile#write}).
 */
public final class GgufExport {
    private static final Pattern LAYER = Pattern.compile("(?:gpt_neox|model)\\.layers\\.(\\d+)\\.(.+)");
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgufExport() {}

    /** The types a matrix can be written as. */
    public static final List<DType> TYPES = List.of(DType.F32, DType.F16, DType.Q8_0, DType.Q4_0);

    /**
     * Writes {@code checkpoint} (a Hugging Face folder) to {@code out} with its matrices as
     * {@code type} and the vocabulary of {@code tokenizer} (a tokenizer.json, a GGUF file whose
     * {@code tokenizer.*} entries are copied, or null for none: jsteer reads such a file, llama.cpp
     * does not).
     *
     * @return notes on what the file means that the checkpoint did not say the same way (e.g.
     *     llama.cpp's own attention scale for Gemma 2/3), one line each
     * @throws WeightsException naming the file and tensor for weights that cannot be written
     * @throws IllegalArgumentException for a type not in {@link #TYPES} or an unreadable tokenizer
     */
    public static List<String> write(Checkpoint checkpoint, DType type, Path tokenizer, Path out) {
        if (!TYPES.contains(type)) throw new IllegalArgumentException("cannot write matrices as " + type + "; expected one of " + TYPES);
        ModelConfig c = checkpoint.config();
        List<String> notes = new ArrayList<>();
        Map<String, Value> meta = new LinkedHashMap<>();
        String arch = archName(c, notes);
        String p = arch + ".";
        meta.put("general.architecture", Value.string(arch));
        meta.put("general.name", Value.string(checkpoint.dir().getFileName().toString()));
        meta.put(p + "context_length", Value.uint32(c.maxPositions()));
        meta.put(p + "embedding_length", Value.uint32(c.hiddenSize()));
        meta.put(p + "block_count", Value.uint32(c.numLayers()));
        meta.put(p + "feed_forward_length", Value.uint32(c.intermediateSize()));
        meta.put(p + "attention.head_count", Value.uint32(c.numHeads()));
        boolean neox = c.architecture() == Architecture.GPT_NEOX;
        if (neox) {
            meta.put(p + "rope.dimension_count", Value.uint32(c.rotaryDims()));
            meta.put(p + "rope.freq_base", Value.float32((float) c.ropeTheta()));
            meta.put(p + "use_parallel_residual", Value.bool(c.parallelResidual()));
            meta.put(p + "attention.layer_norm_epsilon", Value.float32(c.normEps()));
        } else {
            meta.put(p + "attention.head_count_kv", Value.uint32(c.numKvHeads()));
            meta.put(p + "attention.layer_norm_rms_epsilon", Value.float32(c.normEps()));
            meta.put(p + "attention.key_length", Value.uint32(c.headDim()));
            meta.put(p + "attention.value_length", Value.uint32(c.headDim()));
            meta.put(p + "rope.freq_base", Value.float32((float) c.ropeTheta()));
            if (!c.architecture().isGemma()) meta.put(p + "rope.dimension_count", Value.uint32(c.headDim()));
        }
        RopeScaling rs = c.ropeScaling();
        float[] ropeFactors = switch (rs.type()) {
            case NONE -> null;
            case LINEAR -> {
                meta.put(p + "rope.scaling.type", Value.string("linear"));
                meta.put(p + "rope.scaling.factor", Value.float32((float) rs.factor()));
                yield null;
            }
            case LLAMA3, FACTORS -> {
                // only llama.cpp's llama reads rope_freqs; its converter drops llama3 scaling for other families
                if (!arch.equals("llama")) {
                    throw new WeightsException(checkpoint.dir(), rs.type().name().toLowerCase(Locale.ROOT)
                            + " rope scaling can be written to GGUF for llama only (as rope_freqs.weight, which llama.cpp reads there), not " + arch);
                }
                yield rs.type() == RopeScaling.Type.LLAMA3 ? llamaCppRopeFactors(rs, c.ropeTheta(), c.headDim()) : rs.frequencyFactors();
            }
        };
        if (c.architecture() == Architecture.GEMMA2) {
            meta.put(p + "attn_logit_softcapping", Value.float32(c.attnSoftcap()));
            meta.put(p + "final_logit_softcapping", Value.float32(c.finalSoftcap()));
            meta.put(p + "attention.sliding_window", Value.uint32(c.slidingWindow()));
        }
        if (c.architecture() == Architecture.GEMMA3) {
            meta.put(p + "attention.sliding_window", Value.uint32(c.slidingWindow()));
            meta.put(p + "attention.sliding_window_pattern", Value.uint32(c.slidingPattern()));
            meta.put(p + "rope.freq_base_swa", Value.float32((float) c.ropeLocalTheta()));
        }
        if ((c.architecture() == Architecture.GEMMA2 || c.architecture() == Architecture.GEMMA3)
                && Math.abs(c.attentionScale() * Math.sqrt(c.headDim()) - 1) > 1e-6) {
            notes.add(String.format(Locale.ROOT, "llama.cpp scales %s attention by 1/sqrt(head_dim) = %.6g, not the checkpoint's %.6g "
                    + "(query_pre_attn_scalar): the file means that model", arch, 1 / Math.sqrt(c.headDim()), c.attentionScale()));
        }
        meta.put("general.file_type", Value.uint32(switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            default -> 7;
        }));
        meta.putAll(vocabulary(tokenizer, c.vocabSize(), notes));

        List<GgufFile.Entry> entries = new ArrayList<>();
        if (ropeFactors != null) {
            // first, as the converter yields its generated tensors before the checkpoint's
            entries.add(new GgufFile.Entry(GgufModel.ROPE_FREQS, DType.F32, new long[] {ropeFactors.length},
                    seg -> encode(ropeFactors, DType.F32, seg, checkpoint.dir(), GgufModel.ROPE_FREQS)));
        }
        WeightSource w = checkpoint.weights();
        boolean tied = c.tieWordEmbeddings() || c.architecture().isGemma();
        for (String name : w.names()) {
            if (tied && name.equals("lm_head.weight")) continue;
            String gguf = ggufName(name, neox, c.architecture());
            if (gguf == null) continue;
            Tensor t = w.tensor(name);
            DType target = t.rank() != 2 ? DType.F32 : type.isQuantized() && t.dim(1) % type.blockSize() != 0 ? DType.F16 : type;
            // converted one tensor at a time as the file is written, so only one is ever on the heap
            entries.add(new GgufFile.Entry(gguf, target, t.shape(), seg -> encode(transform(name, t, c), target, seg, w.path(), name)));
        }
        GgufFile.write(out, meta, entries);
        return notes;
    }

    private static String archName(ModelConfig c, List<String> notes) {
        return switch (c.architecture()) {
            case GPT_NEOX -> "gptneox";
            case GEMMA -> "gemma";
            case GEMMA2 -> "gemma2";
            case GEMMA3 -> "gemma3";
            case LLAMA -> "llama";
            case MISTRAL -> {
                if (c.slidingWindow() > 0) notes.add("Mistral is written as llama, as llama.cpp's converter writes it: without its sliding window of " + c.slidingWindow());
                yield "llama";
            }
            case QWEN2 -> "qwen2";
            case QWEN3 -> "qwen3";
        };
    }

    /**
     * The per-dimension RoPE factors llama.cpp's converter writes for llama3 rope scaling
     * ({@code LlamaModel.generate_extra_tensors}): for each rotated pair, 1 where the wavelength is
     * below {@code L / high_freq_factor}, {@code factor} above {@code L / low_freq_factor}, and
     * between them the reciprocal of Hugging Face's blend, {@code 1 / ((1 - s) / factor + s)}. The
     * converter computes on float32 tensors with its Python numbers rounded to float32 at each
     * operation, so this does too, to write the same bits.
     */
    static float[] llamaCppRopeFactors(RopeScaling rs, double base, int dim) {
        float factor = (float) rs.factor(), low = (float) rs.lowFreqFactor(), high = (float) rs.highFreqFactor();
        float context = rs.originalMaxPositions(), band = (float) (rs.highFreqFactor() - rs.lowFreqFactor());
        float lowWavelen = (float) (rs.originalMaxPositions() / rs.lowFreqFactor()), highWavelen = (float) (rs.originalMaxPositions() / rs.highFreqFactor());
        float[] out = new float[dim / 2];
        for (int i = 0; i < out.length; i++) {
            // freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
            float freq = 1f / (float) Math.pow((float) base, (float) (2 * i) / dim);
            float wavelen = (float) (2 * Math.PI) / freq;
            if (wavelen < highWavelen) out[i] = 1;
            else if (wavelen > lowWavelen) out[i] = factor;
            else {
                float smooth = (context / wavelen - low) / band;
                out[i] = 1 / ((1 - smooth) / factor + smooth);
            }
        }
        return out;
    }

    /** llama.cpp's name for a Hugging Face tensor, or null for none (a buffer llama.cpp recomputes). */
    private static String ggufName(String hf, boolean neox, Architecture arch) {
        int dot = hf.lastIndexOf('.');
        String base = hf.substring(0, dot), suffix = hf.substring(dot);
        Matcher m = LAYER.matcher(base);
        if (m.matches()) {
            boolean sandwich = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3;
            String role = neox ? switch (m.group(2)) {
                case "input_layernorm" -> "attn_norm";
                case "post_attention_layernorm" -> "ffn_norm";
                case "attention.query_key_value" -> "attn_qkv";
                case "attention.dense" -> "attn_output";
                case "mlp.dense_h_to_4h" -> "ffn_up";
                case "mlp.dense_4h_to_h" -> "ffn_down";
                default -> null;
            } : switch (m.group(2)) {
                case "input_layernorm" -> "attn_norm";
                case "post_attention_layernorm" -> sandwich ? "post_attention_norm" : "ffn_norm";
                case "pre_feedforward_layernorm" -> "ffn_norm";
                case "post_feedforward_layernorm" -> "post_ffw_norm";
                case "self_attn.q_proj" -> "attn_q";
                case "self_attn.k_proj" -> "attn_k";
                case "self_attn.v_proj" -> "attn_v";
                case "self_attn.o_proj" -> "attn_output";
                case "self_attn.q_norm" -> "attn_q_norm";
                case "self_attn.k_norm" -> "attn_k_norm";
                case "mlp.gate_proj" -> "ffn_gate";
                case "mlp.up_proj" -> "ffn_up";
                case "mlp.down_proj" -> "ffn_down";
                default -> null;
            };
            return role == null ? null : "blk." + m.group(1) + "." + role + suffix;
        }
        String top = switch (base) {
            case "gpt_neox.embed_in", "model.embed_tokens" -> "token_embd";
            case "embed_out", "lm_head" -> "output";
            case "gpt_neox.final_layer_norm", "model.norm" -> "output_norm";
            default -> null;
        };
        return top == null ? null : top + suffix;
    }

    /** The tensor's values as the converter stores them. */
    private static float[] transform(String name, Tensor t, ModelConfig c) {
        float[] x = t.toFloatArray();
        if (c.architecture() == Architecture.GPT_NEOX && name.contains("attention.query_key_value")) {
            // rows [head][q|k|v][headDim] -> [q|k|v][head][headDim]
            int heads = c.numHeads(), hd = c.hiddenSize() / heads, cols = t.rank() == 2 ? t.dim(1) : 1;
            float[] y = new float[x.length];
            for (int h = 0; h < heads; h++) {
                for (int part = 0; part < 3; part++) {
                    for (int i = 0; i < hd; i++) {
                        System.arraycopy(x, ((h * 3 + part) * hd + i) * cols, y, ((part * heads + h) * hd + i) * cols, cols);
                    }
                }
            }
            return y;
        }
        if (c.architecture().isGemma() && name.endsWith("norm.weight")) {
            for (int i = 0; i < x.length; i++) x[i] = x[i] + 1f;
            return x;
        }
        boolean llama = c.architecture() == Architecture.LLAMA || c.architecture() == Architecture.MISTRAL;
        if (llama && (name.contains("q_proj") || name.contains("k_proj"))) {
            // LlamaModel.permute: within each head, row a * headDim/2 + i goes to 2i + a
            int heads = name.contains("q_proj") ? c.numHeads() : c.numKvHeads();
            int rows = t.dim(0), cols = t.rank() == 2 ? t.dim(1) : 1, hd = rows / heads, half = hd / 2;
            float[] y = new float[x.length];
            for (int h = 0; h < heads; h++) {
                for (int a = 0; a < 2; a++) {
                    for (int i = 0; i < half; i++) System.arraycopy(x, (h * hd + a * half + i) * cols, y, (h * hd + 2 * i + a) * cols, cols);
                }
            }
            return y;
        }
        return x;
    }

    private static void encode(float[] x, DType type, MemorySegment out, Path file, String name) {
        switch (type) {
            case F32 -> MemorySegment.copy(x, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, x.length);
            case F16 -> {
                for (int i = 0; i < x.length; i++) out.set(U16, 2L * i, Float.floatToFloat16(x[i]));
            }
            default -> {
                for (int i = 0; i < x.length; i++) {
                    if (!Float.isFinite(x[i])) throw new WeightsException(file, name, "holds " + x[i] + " at element " + i + "; cannot quantize it");
                }
                int blocks = x.length / type.blockSize();
                for (int b = 0; b < blocks; b++) Quants.quantizeBlock(type, x, b * type.blockSize(), out, (long) b * type.blockBytes());
            }
        }
    }

    private static Map<String, Value> vocabulary(Path tokenizer, int modelVocab, List<String> notes) {
        if (tokenizer == null) {
            notes.add("no vocabulary written (no tokenizer.json given or found): jsteer reads the file, llama.cpp needs one");
            return Map.of();
        }
        if (Checkpoint.isGguf(tokenizer)) {
            Map<String, Value> out = new LinkedHashMap<>();
            try (GgufFile g = GgufFile.read(tokenizer)) {
                g.metadata().forEach((k, v) -> {
                    if (k.startsWith("tokenizer.")) out.put(k, value(k, v));
                });
            }
            return out;
        }
        try {
            return GgufVocabulary.fromTokenizerJson(tokenizer, null, modelVocab);
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizer + ": " + e.getMessage(), e);
        }
    }

    /** A read metadata value with the type llama.cpp's converter gives that key. */
    private static Value value(String key, Object v) {
        if (v instanceof String s) return Value.string(s);
        if (v instanceof Boolean b) return Value.bool(b);
        if (v instanceof Long l) return Value.uint32((int) (long) l);
        if (v instanceof Double d) return Value.float32(d.floatValue());
        List<?> list = (List<?>) v;
        if (!list.isEmpty() && list.getFirst() instanceof String) return Value.array(GgufFile.TYPE_STRING, list);
        if (!list.isEmpty() && list.getFirst() instanceof Double) {
            return Value.array(GgufFile.TYPE_FLOAT32, list.stream().map(o -> ((Double) o).floatValue()).toList());
        }
        if (key.endsWith("merges")) return Value.array(GgufFile.TYPE_STRING, list);
        return Value.array(GgufFile.TYPE_INT32, list.stream().map(o -> (int) (long) (Long) o).toList());
    }
}
