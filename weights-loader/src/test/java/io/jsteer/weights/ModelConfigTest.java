/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parses the configs of all seven reference fixtures and checks every derived field by hand. */
class ModelConfigTest {
    @TempDir Path dir;

    private static ModelConfig fixture(String name) throws URISyntaxException {
        return ModelConfig.load(CheckpointTest.resource(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gemma-tiny", "gemma-tiny-bf16", "gemma-tiny-fp16"})
    void gemma1(String name) throws URISyntaxException {
        ModelConfig c = fixture(name);
        assertEquals(Architecture.GEMMA, c.architecture());
        assertShape(c, 576, 64, 160, 3, 4, 2, 24);
        assertEquals(1e-6f, c.normEps());
        // hidden_act "gelu" with hidden_activation null: transformers 4.47 uses the tanh approximation.
        assertEquals(Activation.GELU_TANH, c.activation());
        assertEquals(24, c.rotaryDims());
        assertEquals(10000, c.ropeTheta());
        assertEquals(10000, c.ropeLocalTheta());
        assertEquals(RopeScaling.NONE, c.ropeScaling());
        assertFalse(c.parallelResidual());
        assertFalse(c.attentionBias());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(0, c.slidingWindow());
        assertEquals(0, c.slidingPattern());
        assertEquals(0f, c.attnSoftcap());
        assertEquals(0f, c.finalSoftcap());
        assertEquals((float) (1 / Math.sqrt(24)), c.attentionScale());
        assertEquals(128, c.maxPositions());
        assertEquals(2, c.bosTokenId());
        assertArrayEquals(new int[] {1}, c.eosTokenIds());
        for (int l = 0; l < 3; l++) assertFalse(c.isSliding(l));
    }

    @Test
    void gemma2() throws URISyntaxException {
        ModelConfig c = fixture("gemma2-tiny");
        assertEquals(Architecture.GEMMA2, c.architecture());
        assertShape(c, 576, 64, 160, 4, 4, 2, 24);
        assertEquals(Activation.GELU_TANH, c.activation());
        assertEquals(8, c.slidingWindow());
        assertEquals(2, c.slidingPattern());
        assertEquals(4f, c.attnSoftcap());
        assertEquals(3f, c.finalSoftcap());
        assertEquals((float) (1 / Math.sqrt(20)), c.attentionScale(), "query_pre_attn_scalar 20, not head_dim 24");
        assertTrue(c.tieWordEmbeddings());
        // Gemma 2 slides on even layers (layer_idx % 2 == 0).
        boolean[] sliding = {true, false, true, false};
        for (int l = 0; l < 4; l++) assertEquals(sliding[l], c.isSliding(l), "layer " + l);
        for (int l = 0; l < 4; l++) assertEquals(10000, c.ropeBase(l));
    }

    @Test
    void gemma3() throws URISyntaxException {
        ModelConfig c = fixture("gemma3-tiny");
        assertEquals(Architecture.GEMMA3, c.architecture());
        assertShape(c, 576, 64, 160, 5, 4, 1, 24);
        assertEquals(Activation.GELU_TANH, c.activation());
        assertEquals(8, c.slidingWindow());
        assertEquals(3, c.slidingPattern());
        assertEquals(0f, c.attnSoftcap(), "null soft-caps mean none");
        assertEquals(0f, c.finalSoftcap());
        assertEquals((float) (1 / Math.sqrt(20)), c.attentionScale());
        assertEquals(1_000_000, c.ropeTheta());
        assertEquals(10_000, c.ropeLocalTheta());
        // Every third layer is global: (layer + 1) % 3 == 0.
        boolean[] sliding = {true, true, false, true, true};
        for (int l = 0; l < 5; l++) {
            assertEquals(sliding[l], c.isSliding(l), "layer " + l);
            assertEquals(sliding[l] ? 10_000 : 1_000_000, c.ropeBase(l), "rope base of layer " + l);
            assertEquals(RopeScaling.NONE, c.ropeScaling(l));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel", "pythia-tiny-sequential"})
    void pythia(String name) throws URISyntaxException {
        ModelConfig c = fixture(name);
        assertEquals(Architecture.GPT_NEOX, c.architecture());
        assertShape(c, 512, 64, 256, 4, 4, 4, 16);
        assertEquals(4, c.rotaryDims(), "rotary_pct 0.25 of head_dim 16");
        assertEquals(1e-5f, c.normEps());
        assertEquals(Activation.GELU_ERF, c.activation());
        assertEquals(name.endsWith("parallel"), c.parallelResidual());
        assertTrue(c.attentionBias());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(10000, c.ropeTheta());
        assertEquals(0.25f, c.attentionScale());
        assertEquals(0f, c.attnSoftcap());
        assertEquals(0, c.slidingWindow());
        assertEquals(0, c.bosTokenId());
        assertArrayEquals(new int[] {0}, c.eosTokenIds());
        assertFalse(c.isSliding(0));
    }

    private static void assertShape(ModelConfig c, int vocab, int hidden, int inter, int layers, int heads, int kv, int headDim) {
        assertEquals(vocab, c.vocabSize());
        assertEquals(hidden, c.hiddenSize());
        assertEquals(inter, c.intermediateSize());
        assertEquals(layers, c.numLayers());
        assertEquals(heads, c.numHeads());
        assertEquals(kv, c.numKvHeads());
        assertEquals(headDim, c.headDim());
    }

    /** Writes the named fixture's config with {@code edit} applied and returns its path. */
    private Path edited(String name, Consumer<ObjectNode> edit) throws IOException, URISyntaxException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode c = (ObjectNode) m.readTree(CheckpointTest.resource(name + "/config.json").toFile());
        edit.accept(c);
        Path file = dir.resolve("config.json");
        m.writeValue(file.toFile(), c);
        return file;
    }

    private void assertConfigError(Path file, String fragment) {
        assertWeightsError(file, () -> ModelConfig.load(file), fragment);
    }

    @Test
    void unknownArchitecture() throws Exception {
        Path f = edited("gemma-tiny", c -> c.putArray("architectures").add("PhiForCausalLM"));
        assertConfigError(f, "unknown architecture 'PhiForCausalLM' in 'architectures' (supported: GPTNeoXForCausalLM, GemmaForCausalLM, "
                + "Gemma2ForCausalLM, Gemma3ForCausalLM, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)");
    }

    @Test
    void missingArchitectures() throws Exception {
        assertConfigError(edited("gemma-tiny", c -> c.remove("architectures")), "missing 'architectures' (a list naming one of: GPTNeoXForCausalLM, ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size", "intermediate_size"})
    void missingRequiredKey(String key) throws Exception {
        assertConfigError(edited("pythia-tiny-parallel", c -> c.remove(key)), "missing '" + key + "'");
    }

    @Test
    void nonIntegerSize() throws Exception {
        assertConfigError(edited("gemma-tiny", c -> c.put("hidden_size", 64.5)), "'hidden_size' must be a positive integer, got 64.5");
        assertConfigError(edited("gemma-tiny", c -> c.put("num_key_value_heads", 0)), "'num_key_value_heads' must be a positive integer, got 0");
    }

    @Test
    void inconsistentHeads() throws Exception {
        assertConfigError(edited("gemma-tiny", c -> c.put("num_key_value_heads", 3)), "num_attention_heads 4 is not a multiple of num_key_value_heads 3");
        assertConfigError(edited("pythia-tiny-parallel", c -> c.put("num_attention_heads", 5)), "hidden_size 64 is not divisible by num_attention_heads 5");
    }

    @Test
    void unsupportedActivationAndRope() throws Exception {
        assertConfigError(edited("pythia-tiny-parallel", c -> c.put("hidden_act", "relu")), "unsupported activation 'relu'");
        assertConfigError(edited("gemma3-tiny", c -> c.putObject("rope_scaling").put("rope_type", "yarn")), "unsupported 'rope_scaling.rope_type' 'yarn' (supported: default, linear)");
    }

    @Test
    void linearRopeScalingOnGlobalLayersOnly() throws Exception {
        ModelConfig c = ModelConfig.load(edited("gemma3-tiny", n -> n.putObject("rope_scaling").put("rope_type", "linear").put("factor", 8.0)));
        assertEquals(RopeScaling.linear(8), c.ropeScaling(2));
        assertEquals(RopeScaling.NONE, c.ropeScaling(0));
    }

    @Test
    void eosListKeepsEveryId() throws Exception {
        ModelConfig c = ModelConfig.load(edited("gemma3-tiny", n -> n.putArray("eos_token_id").add(1).add(106)));
        assertArrayEquals(new int[] {1, 106}, c.eosTokenIds());
        assertConfigError(edited("gemma3-tiny", n -> n.put("eos_token_id", "one")), "'eos_token_id' must be a token id or a list of them, got \"one\"");
        assertConfigError(edited("gemma3-tiny", n -> n.putArray("eos_token_id").add(1).add(-3)), "'eos_token_id' must be a token id or a list of them, got [1,-3]");
        assertConfigError(edited("gemma3-tiny", n -> n.putArray("eos_token_id")), "'eos_token_id' must be a token id or a list of them, got []");
    }

    @Test
    void wrongTypes() throws Exception {
        assertConfigError(edited("pythia-tiny-parallel", c -> c.put("use_parallel_residual", "yes")), "'use_parallel_residual' must be true or false, got \"yes\"");
        assertConfigError(edited("gemma-tiny", c -> c.put("rope_theta", "big")), "'rope_theta' must be a number, got \"big\"");
    }

    @Test
    void malformedFiles() {
        Path f = dir.resolve("config.json");
        RawFiles.write(f, "{\"hidden_size\": 1, \"hidden_size\": 2}");
        assertConfigError(f, "Duplicate field 'hidden_size'");
        RawFiles.write(f, "{\"architectures\": [");
        assertConfigError(f, "cannot parse config");
        RawFiles.write(f, "[]");
        assertConfigError(f, "config is not a JSON object");
        Path absent = dir.resolve("absent.json");
        assertConfigError(absent, "no such file");
    }

    @Test
    void llama3TinyFixture() throws URISyntaxException {
        ModelConfig c = fixture("llama3-tiny");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertShape(c, 640, 64, 160, 4, 4, 2, 24);
        assertEquals(Activation.SILU, c.activation());
        assertEquals(1e-5f, c.normEps());
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, 8, 1, 4, 32), c.ropeScaling());
        assertEquals(c.ropeScaling(), c.ropeScaling(3));
        assertEquals(24, c.rotaryDims());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.attentionBias() || c.qkvBias() || c.mlpBias() || c.parallelResidual());
        assertEquals(1f, c.embeddingScale());
        assertEquals((float) (1 / Math.sqrt(24)), c.attentionScale());
        for (int l = 0; l < 4; l++) assertFalse(c.isSliding(l));
    }

    @Test
    void llama2TinyFixtureHasEveryBias() throws URISyntaxException {
        ModelConfig c = fixture("llama2-tiny");
        assertShape(c, 512, 64, 176, 3, 4, 4, 16);
        // the legacy "type" key instead of "rope_type"
        assertEquals(RopeScaling.linear(2), c.ropeScaling());
        assertTrue(c.attentionBias() && c.qkvBias() && c.mlpBias());
        assertFalse(c.tieWordEmbeddings());
    }

    @Test
    void mistralSlidesEveryLayerUnlessTheWindowIsNull() throws Exception {
        ModelConfig c = fixture("mistral-tiny");
        assertEquals(Architecture.MISTRAL, c.architecture());
        assertEquals(8, c.slidingWindow());
        for (int l = 0; l < 3; l++) assertTrue(c.isSliding(l));
        // Mistral's attention has no biases whatever the config says
        assertFalse(ModelConfig.load(edited("mistral-tiny", n -> n.put("attention_bias", true))).qkvBias());
        ModelConfig full = ModelConfig.load(edited("mistral-tiny", n -> n.putNull("sliding_window")));
        for (int l = 0; l < 3; l++) assertFalse(full.isSliding(l));
        assertEquals(4096, ModelConfig.load(edited("mistral-tiny", n -> n.remove("sliding_window"))).slidingWindow());
    }

    @Test
    void qwen2HasQkvBiasesAndNoOutputBias() throws URISyntaxException {
        ModelConfig c = fixture("qwen2-tiny");
        assertEquals(Architecture.QWEN2, c.architecture());
        assertTrue(c.qkvBias());
        assertFalse(c.attentionBias());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(1e6, c.ropeTheta());
    }

    @Test
    void qwen3HeadDimIsExplicitAndDefaultsTo128() throws Exception {
        ModelConfig c = fixture("qwen3-tiny");
        assertEquals(Architecture.QWEN3, c.architecture());
        assertShape(c, 512, 64, 160, 3, 4, 2, 24);
        assertEquals(128, ModelConfig.load(edited("qwen3-tiny", n -> n.remove("head_dim"))).headDim());
        assertEquals(16, ModelConfig.load(edited("qwen2-tiny", n -> n.remove("head_dim"))).headDim());
        assertArrayEquals(new int[0], ModelConfig.load(edited("qwen3-tiny", n -> n.remove("eos_token_id"))).eosTokenIds());
        assertEquals(-1, ModelConfig.load(edited("qwen3-tiny", n -> n.remove("bos_token_id"))).bosTokenId());
    }

    @Test
    void unsupportedOrIncompleteRopeScalingIsNamed() throws Exception {
        assertConfigError(edited("llama3-tiny", n -> ((ObjectNode) n.get("rope_scaling")).put("rope_type", "dynamic")),
                "unsupported 'rope_scaling.rope_type' 'dynamic' (supported: default, linear, llama3)");
        assertConfigError(edited("llama3-tiny", n -> ((ObjectNode) n.get("rope_scaling")).put("rope_type", "yarn")),
                "unsupported 'rope_scaling.rope_type' 'yarn' (supported: default, linear, llama3)");
        assertConfigError(edited("llama3-tiny", n -> ((ObjectNode) n.get("rope_scaling")).remove("original_max_position_embeddings")),
                "missing 'rope_scaling.original_max_position_embeddings'");
        assertConfigError(edited("llama3-tiny", n -> ((ObjectNode) n.get("rope_scaling")).put("low_freq_factor", 4.0)),
                "'rope_scaling.high_freq_factor' 4.0 must exceed 'rope_scaling.low_freq_factor' 4.0");
        assertConfigError(edited("llama3-tiny", n -> ((ObjectNode) n.get("rope_scaling")).remove("rope_type")),
                "missing 'rope_scaling.rope_type' (supported: default, linear, llama3)");
        assertConfigError(edited("llama2-tiny", n -> ((ObjectNode) n.get("rope_scaling")).put("factor", -2)),
                "'rope_scaling.factor' must be a positive number, got -2");
        assertConfigError(edited("gemma3-tiny", n -> n.putObject("rope_scaling").put("rope_type", "llama3")),
                "unsupported 'rope_scaling.rope_type' 'llama3' (supported: default, linear)");
    }

    @Test
    void missingFieldsAndUnsupportedSettingsAreNamed() throws Exception {
        assertConfigError(edited("llama3-tiny", n -> n.remove("hidden_size")), "missing 'hidden_size'");
        assertConfigError(edited("qwen2-tiny", n -> n.remove("num_hidden_layers")), "missing 'num_hidden_layers'");
        assertConfigError(edited("qwen2-tiny", n -> n.put("use_sliding_window", true)),
                "'use_sliding_window' true is not supported for Qwen2ForCausalLM (supported: false, as in every released checkpoint)");
        assertConfigError(edited("llama3-tiny", n -> n.put("hidden_act", "relu2")),
                "unsupported activation 'relu2' in 'hidden_act' (supported: gelu, gelu_pytorch_tanh, gelu_new, gelu_fast, silu, swish)");
    }
}
