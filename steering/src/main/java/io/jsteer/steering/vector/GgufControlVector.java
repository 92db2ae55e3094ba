/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.DType;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.WeightsException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Steering vectors as llama.cpp control vectors ({@code --control-vector FILE} /
 * {@code --control-vector-scaled FILE SCALE}).
 *
 * <p>Format, as llama.cpp's {@code cvector-generator} writes it and {@code common_control_vector_load_one}
 * reads it: a GGUF v3 file with metadata {@code general.architecture = "controlvector"} (string),
 * {@code controlvector.model_hint} (string: the model's llama.cpp architecture, e.g. {@code gptneox},
 * {@code gemma2}; not checked by the loader) and {@code controlvector.layer_count} (int32: the
 * number of direction tensors), and one 1-D F32 tensor {@code direction.N} of {@code n_embd}
 * values per steered layer. The loader rejects {@code direction.0}, non-F32, non-1-D tensors and
 * tensors of differing length; several files (or tensors of one layer) add up.
 *
 * <p>Layer mapping: the loader puts {@code direction.N} at buffer offset {@code n_embd * (N - 1)},
 * {@code llama_adapter_cvec::apply} fills the tensor of graph layer {@code il} from offset
 * {@code n_embd * (il - 1)}, and each model's graph adds that tensor to the block output
 * ({@code cur = build_cvec(cur, il)} right before {@code cb(cur, "l_out", il)}), at every position.
 * So {@code direction.N} is added to the output of 0-based block {@code N}: exactly
 * {@code blocks.N.hook_resid_post} here, with no offset. Block 0 cannot be steered by llama.cpp
 * (it has no slot), and only resid_post vectors have a llama.cpp equivalent.
 */
public final class GgufControlVector {
    private GgufControlVector() {}

    /** llama.cpp's {@code general.architecture} name of a model family, the conventional model hint. */
    public static String modelHint(Architecture a) {
        return switch (a) {
            case GPT_NEOX -> "gptneox";
            case GEMMA -> "gemma";
            case GEMMA2 -> "gemma2";
            case GEMMA3 -> "gemma3";
            // llama.cpp's converter writes Mistral checkpoints as "llama"
            case LLAMA, MISTRAL -> "llama";
            case QWEN2 -> "qwen2";
            case QWEN3 -> "qwen3";
        };
    }

    /**
     * Writes {@code coefficient * v} for each vector as {@code direction.<layer>}, in layer order.
     * Every vector must be a resid_post vector of a block {@code >= 1}, one per layer, all of one width.
     */
    public static void write(Path file, String modelHint, List<SteeringVector> vectors, double coefficient) {
        if (vectors == null || vectors.isEmpty()) throw new IllegalArgumentException("no steering vectors to export");
        if (modelHint == null || modelHint.isBlank()) throw new IllegalArgumentException("model hint is empty");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        Map<Integer, float[]> byLayer = new TreeMap<>();
        int width = vectors.getFirst().width();
        for (SteeringVector v : vectors) {
            if (v.hook().point() != HookPoint.RESID_POST) {
                throw new IllegalArgumentException("llama.cpp adds control vectors to block outputs only (blocks.L.hook_resid_post); cannot export " + v.hook());
            }
            if (v.hook().layer() == 0) {
                throw new IllegalArgumentException("llama.cpp cannot steer block 0: its loader rejects direction.0; cannot export " + v.hook());
            }
            if (v.width() != width) throw new IllegalArgumentException("vectors differ in width: " + width + " and " + v.width() + " (" + v.hook() + ")");
            float[] d = v.direction();
            for (int i = 0; i < d.length; i++) d[i] = (float) (coefficient * d[i]);
            SteeringVector.requireFinite(d, coefficient + " x " + v.hook());
            if (byLayer.put(v.hook().layer(), d) != null) throw new IllegalArgumentException("two vectors for layer " + v.hook().layer());
        }
        Map<String, GgufFile.Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufFile.Value.string("controlvector"));
        meta.put("controlvector.model_hint", GgufFile.Value.string(modelHint));
        meta.put("controlvector.layer_count", GgufFile.Value.int32(byLayer.size()));
        Map<String, float[]> tensors = new LinkedHashMap<>();
        byLayer.forEach((layer, d) -> tensors.put("direction." + layer, d));
        GgufFile.writeVectors(file, meta, tensors);
    }

    /**
     * Reads a control vector file under llama.cpp's rules: returns block index {@code N} (as in
     * {@code blocks.N.hook_resid_post}) to values, summing tensors that name the same layer.
     */
    public static Map<Integer, float[]> read(Path file) {
        try (GgufFile g = GgufFile.read(file)) {
            Object arch = g.metadata().get("general.architecture");
            if (!"controlvector".equals(arch)) throw new WeightsException(file, "general.architecture is " + arch + ", expected 'controlvector'");
            if (g.tensors().isEmpty()) throw new WeightsException(file, "no direction tensors");
            Map<Integer, float[]> out = new TreeMap<>();
            long width = -1;
            for (GgufFile.TensorInfo t : g.tensors()) {
                int layer = layerOf(file, t.name());
                if (t.type() != DType.F32) throw new WeightsException(file, t.name(), "is not F32 (ggml type " + t.type() + ")");
                if (t.dims().length != 1) throw new WeightsException(file, t.name(), "is not 1-D (" + t.dims().length + " dimensions)");
                if (width < 0) width = t.elements();
                if (t.elements() != width) throw new WeightsException(file, t.name(), "has " + t.elements() + " values, earlier directions have " + width);
                float[] values = g.floats(t.name());
                float[] sum = out.computeIfAbsent(layer, l -> new float[values.length]);
                for (int i = 0; i < sum.length; i++) sum[i] += values[i];
            }
            return out;
        }
    }

    private static int layerOf(Path file, String name) {
        int dot = name.indexOf('.');
        if (dot < 0 || !name.substring(0, dot).equals("direction")) throw new WeightsException(file, name, "is not named direction.<layer>");
        int layer;
        try {
            layer = Integer.parseInt(name.substring(dot + 1));
        } catch (NumberFormatException e) {
            throw new WeightsException(file, name, "has an unparsable layer index");
        }
        if (layer <= 0) throw new WeightsException(file, name, "has layer index " + layer + "; llama.cpp accepts only layers >= 1");
        return layer;
    }
}
