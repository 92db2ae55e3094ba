/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logits and the activations at every hook point of each fixture model against Hugging Face
 * transformers' float32 outputs (the fixtures record them with forward hooks on the HF modules).
 * Weights stored as F16/BF16 are exact in float32, so they get the same bound.
 */
class ForwardReferenceTest {
    /**
     * Max abs error of the logits, relative to the largest reference logit (at least 1). Measured:
     * at most 1.3e-6 over every fixture and prompt (logit scales 2.3-4.5), so an error of 1e-5 fails.
     */
    static final float TOLERANCE = 2e-6f;
    /** The same for the activations at hook points, whose scale is the residual stream's. Measured: at most 2.2e-6. */
    static final float HOOK_TOLERANCE = 4e-6f;

    static Stream<String> models() {
        return Fixtures.models();
    }

    @ParameterizedTest
    @MethodSource("models")
    void logitsAndEveryHookPointMatchReference(String name) {
        Model model = Model.load(Fixtures.dir(name));
        JsonNode ref = Fixtures.json(name, "reference.json");
        int layers = model.config().numLayers();
        float worstLogits = 0, worstHooks = 0, worstHookAbs = 0;
        for (JsonNode input : ref.get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            State s = model.newState();
            Map<String, float[]> seen = new LinkedHashMap<>();
            for (int l = 0; l < layers; l++) {
                for (HookPoint p : HookPoint.residualStream()) {
                    if (p == HookPoint.RESID_MID && model.config().parallelResidual()) continue;
                    HookName hook = new HookName(l, p);
                    s.hooks().add(hook, (ctx, x) -> seen.put(hook.toString(), x.clone()));
                }
            }
            float[] logits = model.forward(s, ids, true);
            float[] expected = Fixtures.floats(input.get("logits"));
            float abs = Fixtures.maxAbsDiff(logits, expected), err = abs / Math.max(1, Fixtures.maxAbs(expected));
            worstLogits = Math.max(worstLogits, err);
            System.out.printf("%s %s: logits max abs err %.3g (%.3g of scale %.3g)%n", name, input.get("name").asText(), abs, err, Fixtures.maxAbs(expected));
            assertTrue(err <= TOLERANCE, name + " " + input.get("name") + ": logits max abs error " + err + " of scale");
            assertArrayEquals(Fixtures.ints(input.get("argmax")), argmax(logits, model.config().vocabSize()), name + " argmax");

            // every hook point HF recorded (resid_mid only with a sequential residual), and no other
            JsonNode hooks = input.get("hooks");
            List<String> names = new ArrayList<>();
            hooks.fieldNames().forEachRemaining(names::add);
            assertEquals(names, new ArrayList<>(seen.keySet()), name + ": hook points fired, in order");
            for (String hook : names) {
                float[] want = Fixtures.floats(hooks.get(hook));
                float herr = Fixtures.maxAbsDiff(seen.get(hook), want) / Math.max(1, Fixtures.maxAbs(want));
                worstHooks = Math.max(worstHooks, herr);
                worstHookAbs = Math.max(worstHookAbs, Fixtures.maxAbsDiff(seen.get(hook), want));
                assertTrue(herr <= HOOK_TOLERANCE, name + " " + input.get("name") + " " + hook + ": max abs error " + herr + " of scale");
            }
            for (int l = 0; l < layers; l++) {
                float[] block = Fixtures.floats(input.get("block_outputs").get(l));
                assertArrayEquals(block, Fixtures.floats(hooks.get(new HookName(l, HookPoint.RESID_POST).toString())), name + ": block_outputs = resid_post");
            }
        }
        System.out.printf("%s: worst logits error %.3g, worst hook error %.3g (of scale), %.3g absolute%n", name, worstLogits, worstHooks, worstHookAbs);
    }

    @ParameterizedTest
    @MethodSource("models")
    void greedyGenerationMatchesWithAndWithoutCache(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize();
        for (JsonNode g : Fixtures.json(name, "reference.json").get("generation")) {
            int[] prompt = Fixtures.ints(g.get("prompt_ids"));
            int n = g.get("max_new_tokens").asInt();
            int[] expected = Fixtures.ints(g.get("new_ids"));

            int[] seq = prompt;
            int[] noCache = new int[n];
            for (int i = 0; i < n; i++) {
                float[] logits = model.forward(model.newState(), seq, false);
                noCache[i] = argmax(logits, vocab)[0];
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = noCache[i];
            }
            assertArrayEquals(expected, noCache, name + ": greedy without cache");

            State s = model.newState();
            float[] logits = model.forward(s, prompt, false);
            int[] cached = new int[n];
            for (int i = 0; i < n; i++) {
                cached[i] = argmax(logits, vocab)[0];
                logits = model.forward(s, new int[] {cached[i]}, false);
            }
            // HF's cached generate() is only trusted where it agrees with its own no-cache loop: its
            // hybrid sliding-window cache diverges once a 7-token prompt crosses the 8-token window
            assertArrayEquals(expected, cached, name + ": greedy with KV cache");
            if (g.get("hf_generate_equals_no_cache_loop").asBoolean()) {
                assertArrayEquals(Fixtures.ints(g.get("hf_generate_new_ids")), cached, name + ": HF generate()");
            }
        }
    }

    static int[] argmax(float[] logits, int vocab) {
        int rows = logits.length / vocab;
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int i = 1; i < vocab; i++) if (logits[r * vocab + i] > logits[r * vocab + best]) best = i;
            out[r] = best;
        }
        return out;
    }
}
