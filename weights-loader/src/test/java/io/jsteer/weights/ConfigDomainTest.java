/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Numbers that cannot be right are refused at load time with the file and field named, instead of
 * loading and producing NaN logits or wrapping round to a plausible shape.
 */
class ConfigDomainTest {
    @TempDir Path dir;

    private static Arguments bad(String fixture, String fragment, Consumer<ObjectNode> edit) {
        return Arguments.of(fixture, fragment, edit);
    }

    static Stream<Arguments> outOfDomain() {
        return Stream.of(
                bad("pythia-tiny-parallel", "'rotary_emb_base' must be positive, got 0", c -> c.put("rotary_emb_base", 0)),
                bad("pythia-tiny-parallel", "'rotary_emb_base' must be positive, got -10000", c -> c.put("rotary_emb_base", -10000)),
                bad("gemma-tiny", "'rope_theta' must be finite", c -> c.put("rope_theta", new java.math.BigDecimal("1e999"))),
                bad("gemma3-tiny", "'rope_local_base_freq' must be positive", c -> c.put("rope_local_base_freq", -1.0)),
                bad("gemma3-tiny", "'rope_scaling.factor' must be a positive number, got 0", c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 0)),
                bad("gemma3-tiny", "'rope_scaling.factor' must be a positive number, got \"8\"", c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", "8")),
                bad("gemma3-tiny", "'rope_scaling' must be an object or null, got 8", c -> c.put("rope_scaling", 8)),
                bad("gemma3-tiny", "'rope_scaling.rope_type' must be a string, got 3", c -> c.putObject("rope_scaling").put("rope_type", 3)),
                bad("gemma-tiny", "'rms_norm_eps' must be in (0, 0.1]", c -> c.put("rms_norm_eps", 0)),
                bad("gemma-tiny", "'rms_norm_eps' must be in (0, 0.1]", c -> c.put("rms_norm_eps", -1e-6)),
                bad("pythia-tiny-parallel", "'layer_norm_eps' must be in (0, 0.1]", c -> c.put("layer_norm_eps", 1e6)),
                bad("pythia-tiny-parallel", "'layer_norm_eps' must be in (0, 0.1]", c -> c.put("layer_norm_eps", 1e-300)),
                bad("gemma2-tiny", "'attn_logit_softcapping' must be positive or null (no cap), got 0", c -> c.put("attn_logit_softcapping", 0)),
                bad("gemma2-tiny", "'final_logit_softcapping' must be positive or null (no cap), got -30.0", c -> c.put("final_logit_softcapping", -30.0)),
                bad("gemma2-tiny", "'query_pre_attn_scalar' must be positive, got 0", c -> c.put("query_pre_attn_scalar", 0)),
                bad("gemma3-tiny", "'query_pre_attn_scalar' must be positive, got -256", c -> c.put("query_pre_attn_scalar", -256)),
                bad("pythia-tiny-parallel", "'rotary_pct' must be in (0, 1], got 1.5", c -> c.put("rotary_pct", 1.5)),
                bad("pythia-tiny-parallel", "'rotary_pct' must be in (0, 1], got 0.0", c -> c.put("rotary_pct", 0)),
                bad("pythia-tiny-parallel", "'partial_rotary_factor' must be in (0, 1], got -0.25", c -> { c.remove("rotary_pct"); c.put("partial_rotary_factor", -0.25); }),
                bad("pythia-tiny-parallel", "'rotary_pct' 0.0625 of head_dim 16 rotates 1 dimensions; RoPE needs a positive even number", c -> c.put("rotary_pct", 0.0625)),
                bad("gemma-tiny", "num_attention_heads 4 is not a multiple of num_key_value_heads 3", c -> c.put("num_key_value_heads", 3)),
                bad("gemma-tiny", "num_attention_heads x head_dim = 4 x 1073741848 overflows a 32-bit row length", c -> c.put("head_dim", (1 << 30) + 24)),
                bad("gemma-tiny", "'eos_token_id' 576 is outside the vocabulary [0, 576)", c -> c.put("eos_token_id", 576)),
                bad("gemma3-tiny", "'eos_token_id' 9999 is outside the vocabulary [0, 576)", c -> c.putArray("eos_token_id").add(1).add(9999)),
                bad("gemma-tiny", "'bos_token_id' 100000 is outside the vocabulary [0, 576)", c -> c.put("bos_token_id", 100000)),
                bad("gemma2-tiny", "'pad_token_id' 576 is outside the vocabulary [0, 576)", c -> c.put("pad_token_id", 576)),
                bad("gemma2-tiny", "'pad_token_id' must be a token id or a list of them, got -1", c -> c.put("pad_token_id", -1)),
                bad("pythia-tiny-parallel", "'hidden_act' must be a string, got 5", c -> c.put("hidden_act", 5)),
                bad("gemma2-tiny", "'hidden_activation' must be a string, got [\"gelu\"]", c -> c.putArray("hidden_activation").add("gelu")));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("outOfDomain")
    void refusedWithTheFieldNamed(String fixture, String fragment, Consumer<ObjectNode> edit) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode c = (ObjectNode) m.readTree(CheckpointTest.resource(fixture + "/config.json").toFile());
        edit.accept(c);
        Path file = dir.resolve("config.json");
        m.writeValue(file.toFile(), c);
        assertWeightsError(file, () -> ModelConfig.load(file), fragment);
    }
}
