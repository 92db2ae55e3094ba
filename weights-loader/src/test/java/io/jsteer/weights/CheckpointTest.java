/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir Path dir;

    static Path resource(String name) throws URISyntaxException {
        return Path.of(CheckpointTest.class.getResource("/weights/" + name).toURI());
    }

    private void copyConfig() throws IOException, URISyntaxException {
        Files.copy(resource("gemma-tiny-bf16/config.json"), dir.resolve("config.json"));
    }

    @Test
    void opensSingleFileFixture() throws URISyntaxException {
        Path fixture = resource("gemma-tiny-bf16");
        try (Checkpoint c = Checkpoint.open(fixture)) {
            assertEquals(fixture, c.dir());
            assertEquals(Architecture.GEMMA, c.config().architecture());
            assertInstanceOf(SafeTensorsFile.class, c.weights());
            assertEquals(fixture.resolve("model.safetensors"), c.weights().path());
            Tensor embed = c.expectShape("model.embed_tokens.weight", c.config().vocabSize(), c.config().hiddenSize());
            assertArrayEquals(new long[] {576, 64}, embed.shape());
            assertTrue(c.has("model.norm.weight"));
            assertFalse(c.has("lm_head.weight"));
        }
    }

    @Test
    void expectShapeReportsMissingTensor() throws URISyntaxException {
        try (Checkpoint c = Checkpoint.open(resource("gemma-tiny-bf16"))) {
            assertEquals(c.weights().path() + ": missing tensor 'lm_head.weight' (required by the config's architecture)",
                    assertThrows(WeightsException.class, () -> c.expectShape("lm_head.weight", 576, 64)).getMessage());
        }
    }

    @Test
    void expectShapeReportsWrongShape() throws URISyntaxException {
        try (Checkpoint c = Checkpoint.open(resource("gemma-tiny-bf16"))) {
            assertEquals(c.weights().path() + ": tensor 'model.layers.0.self_attn.k_proj.weight' has shape [48, 64], config implies [96, 64]",
                    assertThrows(WeightsException.class,
                            () -> c.expectShape("model.layers.0.self_attn.k_proj.weight", 96, 64)).getMessage());
            assertWeightsError(c.weights().path(), () -> c.expectShape("model.norm.weight", 64, 1), "has shape [64], config implies [64, 1]");
        }
    }

    @Test
    void opensShardedCheckpoint() throws IOException, URISyntaxException {
        copyConfig();
        ShardedSafeTensorsTest.writeTwoShards(dir);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertInstanceOf(ShardedSafeTensors.class, c.weights());
            assertEquals(dir.resolve(ShardedSafeTensors.INDEX_NAME), c.weights().path());
            assertArrayEquals(new float[] {9, 10}, c.expectShape("layers.1.w", 2).toFloatArray());
            assertWeightsError(c.weights().path(), () -> c.expectShape("embed", 2, 3),
                    "tensor 'embed' has shape [3, 2], config implies [2, 3]");
        }
    }

    @Test
    void singleFileWinsOverIndex() throws IOException, URISyntaxException {
        copyConfig();
        ShardedSafeTensorsTest.writeTwoShards(dir);
        new SafeTensorsWriter().add("only", new float[] {1}, DType.F32, 1).write(dir.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertInstanceOf(SafeTensorsFile.class, c.weights());
            assertTrue(c.has("only"));
        }
    }

    @Test
    void missingDirectory() {
        Path absent = dir.resolve("nope");
        assertWeightsError(absent, () -> Checkpoint.open(absent), "checkpoint directory does not exist");
    }

    @Test
    void fileInsteadOfDirectory() throws URISyntaxException {
        Path file = resource("gemma-tiny-bf16/model.safetensors");
        assertWeightsError(file, () -> Checkpoint.open(file), "is not a directory or a GGUF file; expected a model folder holding config.json and model.safetensors, or a llama.cpp .gguf model");
    }

    @Test
    void noWeights() throws IOException, URISyntaxException {
        copyConfig();
        assertWeightsError(dir, () -> Checkpoint.open(dir), "no model.safetensors or model.safetensors.index.json");
        RawFiles.write(dir.resolve("pytorch_model.bin"), new byte[1]);
        assertWeightsError(dir, () -> Checkpoint.open(dir), "found PyTorch pickle weights, which are not supported");
    }

    @Test
    void noConfig() {
        new SafeTensorsWriter().write(dir.resolve("model.safetensors"));
        assertWeightsError(dir.resolve("config.json"), () -> Checkpoint.open(dir), "no such file");
    }
}
