/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint that does not fit its config, and inputs the model cannot take, fail with precise messages. */
class BadCheckpointTest {
    @TempDir
    Path tmp;

    private Path copyWithConfig(String model, String from, String to) throws IOException {
        Path src = Fixtures.dir(model);
        Files.copy(src.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), Files.readString(src.resolve("config.json")).replace(from, to));
        return tmp;
    }

    @Test
    void configWiderThanTheWeightsIsAShapeError() throws IOException {
        Path dir = copyWithConfig("gemma-tiny", "\"intermediate_size\": 160", "\"intermediate_size\": 161");
        WeightsException e = assertThrows(WeightsException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor 'model.layers.0.mlp.down_proj.weight' has shape [64, 160], config implies [64, 161]")
                || e.getMessage().contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [160, 64], config implies [161, 64]"), e.getMessage());
    }

    @Test
    void moreLayersThanStoredIsAMissingTensor() throws IOException {
        Path dir = copyWithConfig("pythia-tiny-parallel", "\"num_hidden_layers\": 4", "\"num_hidden_layers\": 5");
        WeightsException e = assertThrows(WeightsException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("missing tensor 'gpt_neox.layers.4.input_layernorm.weight'"), e.getMessage());
    }

    @Test
    void unknownArchitectureIsNamed() throws IOException {
        Path dir = copyWithConfig("gemma-tiny", "GemmaForCausalLM", "FalconForCausalLM");
        WeightsException e = assertThrows(WeightsException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("unknown architecture 'FalconForCausalLM'"), e.getMessage());
    }

    @Test
    void tokenOutsideTheVocabularyAndOverlongSequencesAreRefused() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        State s = model.newState();
        assertEquals("token id 512 at index 1 of the tokens is outside the vocabulary [0, 512)",
                assertThrows(IllegalArgumentException.class, () -> model.forward(s, new int[] {1, 512}, false)).getMessage());
        assertEquals(0, s.length(), "a refused call leaves the state untouched");
        assertEquals("sequence of 129 tokens exceeds the model's max_position_embeddings 128",
                assertThrows(IllegalArgumentException.class, () -> model.forward(s, new int[129], false)).getMessage());
    }
}
