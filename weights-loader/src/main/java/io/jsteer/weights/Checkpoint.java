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
 * present the single file wins, as in {@code transformers}.
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

    /** Reads the config and maps the weights of the model folder {@code dir}. */
    public static Checkpoint open(Path dir) {
        if (!Files.exists(dir)) throw new WeightsException(dir, "checkpoint directory does not exist");
        if (!Files.isDirectory(dir)) {
            throw new WeightsException(dir, "is not a directory; expected a model folder holding config.json and " + SINGLE_FILE);
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

    /** The model folder. */
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
