/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face model folder as downloaded: {@code config.json} plus either one
 * {@code model.safetensors} or a sharded {@code model.safetensors.index.json}. When both are
 * present the single file wins, as in {@code transformers}. Or a llama.cpp GGUF model file
 * (see {@link GgufModel}), whose tensors appear under the Hugging Face names.
 */
public final class Checkpoint implements AutoCloseable {
    /** The file name of a single-file checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path dir;
    private final ModelConfig config;
    private final WeightSource weights;

    private Checkpoint(Path dir, ModelConfig config, WeightSource weights) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
    }

    /** Reads the config and maps the weights of the model folder {@code dir}, or of the GGUF model file {@code dir}. */
    public static Checkpoint open(Path dir) {
        if (!Files.exists(dir)) throw new WeightsException(dir, "checkpoint directory does not exist");
        if (Files.isRegularFile(dir) && isGguf(dir)) {
            GgufModel.Loaded g = GgufModel.open(dir);
            return new Checkpoint(dir, g.config(), g.weights());
        }
        if (!Files.isDirectory(dir)) {
            throw new WeightsException(dir, "is not a directory or a GGUF file; expected a model folder holding config.json and " + SINGLE_FILE + ", or a llama.cpp .gguf model");
        }
        ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(ShardedSafeTensors.INDEX_NAME);
        WeightSource weights;
        if (Files.isRegularFile(single)) {
            weights = SafeTensorsFile.open(single);
        } else if (Files.isRegularFile(index)) {
            weights = ShardedSafeTensors.open(index);
        } else {
            String hint = Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))
                    ? " (found PyTorch pickle weights, which are not supported: convert them to safetensors)" : "";
            throw new WeightsException(dir, "no " + SINGLE_FILE + " or " + ShardedSafeTensors.INDEX_NAME + hint);
        }
        return new Checkpoint(dir, config, weights);
    }

    /** Whether {@code file} is named {@code *.gguf} or starts with GGUF's magic. */
    public static boolean isGguf(Path file) {
        if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) return true;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return java.util.Arrays.equals(in.readNBytes(4), new byte[] {'G', 'G', 'U', 'F'});
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The model folder, or the GGUF file. */
    public Path dir() {
        return dir;
    }

    /** The parsed {@code config.json}. */
    public ModelConfig config() {
        return config;
    }

    /** The mapped tensors. */
    public WeightSource weights() {
        return weights;
    }

    /** Whether the checkpoint stores a tensor of this name (for optional ones such as an untied head). */
    public boolean has(String name) {
        return weights.has(name);
    }

    /**
     * The tensor {@code name}, checked to have the shape the config implies; see
     * {@link WeightSource#expectShape(String, long...)} for the messages.
     */
    public Tensor expectShape(String name, long... shape) {
        return weights.expectShape(name, shape);
    }

    /** Unmaps the weights; tensors obtained before must not be used afterwards. */
    @Override
    public void close() {
        weights.close();
    }
}
