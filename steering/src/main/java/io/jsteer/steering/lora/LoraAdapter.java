/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsteer.steering.eval.AtomicFiles;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.Model;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsWriter;
import io.jsteer.weights.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A rank-1 LoRA on one block's down projection, {@code W' = W + B A} with {@code B = c v}
 * ({@code [hidden][1]}) and {@code A = a^T} ({@code [1][intermediate]}): the projection then adds
 * {@code c v (a . h)} for down-projection input {@code h}, which is the steering vector exactly
 * where {@code a . h = 1}. PEFT's scaling {@code lora_alpha / r} is 1.
 *
 * @param layer     block index
 * @param module    the Hugging Face module name, {@code mlp.down_proj} or {@code mlp.dense_4h_to_h}
 * @param prefix    the module path before {@code layers}, {@code model} (Gemma) or {@code gpt_neox}
 * @param a         {@code [intermediate]}
 * @param b         {@code [hidden]}, already scaled by the coefficient
 */
public record LoraAdapter(SteeringVector vector, double coefficient, int layer, String prefix, String module, float[] a, float[] b) {
    /** How far {@code a . h} is from 1 on some rows: the relative error of the added vector, {@code |B A h - c v| / |c v|}. */
    public record Error(double max, double rms, int rows) {}

    /** The error on {@code h} rows ({@code [rows][intermediate]}). */
    public Error error(float[] h) {
        int ff = a.length, n = h.length / ff;
        if (n == 0 || h.length % ff != 0) throw new IllegalArgumentException(h.length + " values are not whole rows of width " + ff);
        double max = 0, sq = 0;
        for (int r = 0; r < n; r++) {
            double dot = 0;
            for (int i = 0; i < ff; i++) dot += (double) a[i] * h[r * ff + i];
            double e = Math.abs(dot - 1);
            max = Math.max(max, e);
            sq += e * e;
        }
        return new Error(max, Math.sqrt(sq / n), n);
    }

    /** {@code model} with {@code W + B A} materialised (float32) in place of the down projection. */
    public Model apply(Model model) {
        return PatchedModels.withLayer(model, layer, w -> {
            Tensor down = w.down();
            int rows = down.dim(0), cols = down.dim(1);
            float[] merged = new float[rows * cols];
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                down.read((long) r * cols, row);
                for (int c = 0; c < cols; c++) merged[r * cols + c] = row[c] + b[r] * a[c];
            }
            return PatchedModels.withDown(w, Tensor.of(down.name() + "+lora", merged, rows, cols), w.downBias());
        });
    }

    /** The PEFT tensor name of {@code lora_A} or {@code lora_B}. */
    public String tensorName(String which) {
        return "base_model.model." + prefix + ".layers." + layer + "." + module + "." + which + ".weight";
    }

    /**
     * Writes a PEFT adapter directory: {@code adapter_model.safetensors} ({@code lora_A [1][intermediate]},
     * {@code lora_B [hidden][1]}) and {@code adapter_config.json} (LORA, r = 1, lora_alpha = 1, the
     * one target module and layer). Each file appears atomically.
     */
    public void writePeft(Path dir, String baseModel) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        new SafeTensorsWriter()
                .metadata("format", "pt")
                .add(tensorName("lora_A"), a.clone(), DType.F32, 1, a.length)
                .add(tensorName("lora_B"), b.clone(), DType.F32, b.length, 1)
                .write(dir.resolve("adapter_model.safetensors"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = json.createObjectNode();
        cfg.put("peft_type", "LORA");
        cfg.put("task_type", "CAUSAL_LM");
        cfg.put("base_model_name_or_path", baseModel);
        cfg.put("r", 1);
        cfg.put("lora_alpha", 1);
        cfg.put("lora_dropout", 0.0);
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", false);
        cfg.put("use_rslora", false);
        cfg.put("inference_mode", true);
        cfg.putArray("target_modules").add(module.substring(module.lastIndexOf('.') + 1));
        cfg.putArray("layers_to_transform").add(layer);
        cfg.put("jsteer_steering", vector.method() + " " + vector.hook() + " x" + coefficient);
        try {
            AtomicFiles.write(dir.resolve("adapter_config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(cfg).getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise adapter config", e);
        }
    }

    @Override
    public float[] a() {
        return a.clone();
    }

    @Override
    public float[] b() {
        return b.clone();
    }
}
