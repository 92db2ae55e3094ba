/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.ace.DirectionalAblation;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.sparse.SparseMeanDifference;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.WeightsException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MethodSpecTest {
    static final ModelConfig CONFIG = ModelConfig.parse(Path.of("config.json"), new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(Map.of(
            "architectures", java.util.List.of("GPTNeoXForCausalLM"), "hidden_size", 8, "num_attention_heads", 2, "num_hidden_layers", 4,
            "vocab_size", 10, "intermediate_size", 32)));

    @Test
    void parsesNameAndParameters() {
        MethodSpec s = MethodSpec.parse(" CAA : layer=2, coeff=-4.5 ,positions=from:3");
        assertEquals("caa", s.name());
        assertEquals(Map.of("layer", "2", "coeff", "-4.5", "positions", "from:3"), s.params());
        assertEquals("caa:layer=2,coeff=-4.5,positions=from:3", s.toString());
        assertEquals("caa", MethodSpec.parse("caa").toString());
        assertEquals("7", s.with("layer", "7").params().get("layer"));
        assertEquals("2", s.withDefault("layer", "7").params().get("layer"));
    }

    @Test
    void rejectsMalformedSpecs() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse(":layer=1")).getMessage().contains("no method name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("caa:layer")).getMessage().contains("'layer' is not key=value"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("caa:k=1,k=2")).getMessage().contains("sets 'k' twice"));
    }

    @Test
    void createsTheNamedMethodWithDefaults() {
        assertInstanceOf(Caa.class, Methods.create(MethodSpec.parse("caa"), CONFIG));
        assertInstanceOf(SparseMeanDifference.class, Methods.create(MethodSpec.parse("sparse:layer=1,k=3"), CONFIG));
        assertInstanceOf(DirectionalAblation.class, Methods.create(MethodSpec.parse("ablation:scope=at-hook"), CONFIG));
        assertEquals("sparse-mean-diff", Methods.canonical("sparse"));
        assertTrue(Methods.describe().lines().anyMatch(l -> l.startsWith("  caa (layer, hook, coeff, readout, positions, preset, instruction_end)")));
    }

    @Test
    void badParametersNameTheMethodAndTheValue() {
        String m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("sparse:layer=1"), CONFIG)).getMessage();
        assertTrue(m.contains("needs k="), m);
        m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("caa:layer=4"), CONFIG)).getMessage();
        assertTrue(m.contains("layer 4 is out of range: the model has layers 0..3"), m);
        m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("caa:coeff=big"), CONFIG)).getMessage();
        assertTrue(m.contains("coeff=big is not a finite number"), m);
        m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("actadd:variant=sideways"), CONFIG)).getMessage();
        assertTrue(m.contains("variant=sideways is not one of [positional, last_token, mean]"), m);
        m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("caa:hook=resid_mid,layer=1"), CONFIG)).getMessage();
        assertTrue(m.contains("resid_mid") || m.contains("parallel"), m);
        m = assertThrows(IllegalArgumentException.class, () -> Methods.create(MethodSpec.parse("caa:positions=somewhere"), CONFIG)).getMessage();
        assertTrue(m.contains("unknown positions 'somewhere'"), m);
    }
}
