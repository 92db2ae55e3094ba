/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.analysis.AttentionPatterns;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attention patterns against Hugging Face's eager attention weights (the fixtures' {@code
 * inner_hooks.json}, 33 tokens, so the sliding windows of Gemma 2/3 and Mistral bite), and their
 * defining property: every row a distribution over the keys up to the query. Measured: within
 * 9.2e-7 of HF's weights over every fixture, so an error of 1e-5 fails.
 */
class AttentionPatternsTest {
    /** The fixtures whose generator recorded the inner hook points (not the F16/BF16 copies). */
    static Stream<String> models() {
        return Fixtures.models().filter(m -> Files.exists(Fixtures.dir(m).resolve("inner_hooks.json")));
    }

    @ParameterizedTest
    @MethodSource("models")
    void patternsAreHfsAttentionWeights(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int L = model.config().numLayers(), H = model.config().numHeads();
        double worst = 0;
        for (JsonNode input : Fixtures.json(name, "inner_hooks.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            int T = ids.length;
            float[][][][] p = new AttentionPatterns(model).run(ids);
            assertEquals(L, p.length);
            for (int l = 0; l < L; l++) {
                JsonNode want = input.get("hooks").get("blocks." + l + ".attn.hook_pattern");
                assertEquals(H, p[l].length);
                for (int h = 0; h < H; h++) {
                    for (int q = 0; q < T; q++) {
                        double sum = 0;
                        for (int k = 0; k < T; k++) {
                            double err = Math.abs(p[l][h][q][k] - want.get(h).get(q).get(k).asDouble());
                            worst = Math.max(worst, err);
                            assertTrue(err < 2e-6, name + " block " + l + " head " + h + " query " + q + " key " + k + ": error " + err);
                            if (k > q) assertEquals(0f, p[l][h][q][k], "masked key after the query");
                            sum += p[l][h][q][k];
                        }
                        assertEquals(1, sum, 1e-5, "a distribution over the keys");
                    }
                }
            }
        }
        System.out.printf("%s: attention patterns vs HF's eager weights: worst %.3g%n", name, worst);
    }
}
