/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hook points inside the block (norm outputs, q/k/v before and after rotary, attention scores
 * and pattern, z, MLP neurons, the final norm) of every family's fixture against Hugging Face
 * transformers' float32 values, recorded with module hooks on the HF modules and eager attention
 * ({@code inner_hooks.json}, see the generator's README); and a head-wise edit at {@code hook_z}
 * against the same edit made with a PyTorch pre-hook on HF's output projection.
 */
class InnerHookReferenceTest {
    /**
     * Max abs error relative to the reference's largest magnitude (at least 1), as for the
     * residual hook points. Measured: at most 2.5e-6 over every point and family, so an error of
     * 1e-5 fails.
     */
    static final float TOLERANCE = 4e-6f;

    static Stream<String> models() {
        return Fixtures.models().filter(m -> !m.endsWith("-bf16") && !m.endsWith("-fp16"));
    }

    @ParameterizedTest
    @MethodSource("models")
    void everyInnerHookPointMatchesHuggingFace(String name) {
        Model model = Model.load(Fixtures.dir(name));
        JsonNode ref = Fixtures.json(name, "inner_hooks.json");
        for (JsonNode input : ref.get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            State s = model.newState();
            Map<String, float[]> seen = new LinkedHashMap<>();
            for (HookName point : s.hooks().points()) {
                if (!point.point().residual()) s.hooks().add(point, (ctx, x) -> seen.put(point.toString(), x.clone()));
            }
            model.forward(s, ids, false);

            JsonNode hooks = input.get("hooks");
            List<String> names = new ArrayList<>();
            hooks.fieldNames().forEachRemaining(names::add);
            assertEquals(new TreeSet<>(names), new TreeSet<>(seen.keySet()), name + ": the inner hook points");
            Map<String, Float> worst = new LinkedHashMap<>();
            for (String hook : names) {
                float[] want = flatten(hooks.get(hook));
                float[] got = seen.get(hook);
                assertEquals(want.length, got.length, name + " " + hook + ": values");
                float scale = 1, err = 0;
                for (int i = 0; i < want.length; i++) {
                    if (want[i] == Float.NEGATIVE_INFINITY || got[i] == Float.NEGATIVE_INFINITY) {
                        assertEquals(want[i], got[i], name + " " + hook + ": masked keys differ at " + i);
                        continue;
                    }
                    scale = Math.max(scale, Math.abs(want[i]));
                    err = Math.max(err, Math.abs(want[i] - got[i]));
                }
                err /= scale;
                String kind = hook.startsWith("blocks.") ? hook.substring(hook.indexOf('.', "blocks.".length()) + 1) : hook;
                worst.merge(kind, err, Math::max);
                assertTrue(err <= TOLERANCE, name + " " + hook + ": max abs error " + err + " of scale " + scale);
            }
            System.out.printf("%s inner hooks, worst error of scale: %s%n", name, worst);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void headWiseEditAtHookZMatchesTheSameEditInHuggingFace(String name) {
        Model model = Model.load(Fixtures.dir(name));
        JsonNode input = Fixtures.json(name, "inner_hooks.json").get("inputs").get(0);
        JsonNode ablation = input.get("z_ablation");
        int layer = ablation.get("layer").asInt(), head = ablation.get("head").asInt();
        int[] ids = Fixtures.ints(input.get("input_ids"));
        State s = model.newState();
        s.hooks().add(new HookName(layer, HookPoint.Z), (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) {
                for (int i = 0; i < ctx.headDim(); i++) x[t * ctx.width() + head * ctx.headDim() + i] = 0;
            }
        });
        float[] logits = model.forward(s, ids, true);
        float[] want = Fixtures.floats(ablation.get("logits"));
        float[] plain = model.forward(model.newState(), ids, true);
        float err = Fixtures.maxAbsDiff(logits, want) / Math.max(1, Fixtures.maxAbs(want));
        System.out.printf("%s z ablation: logits error %.3g of scale, the edit moved them by %.3g%n", name, err, Fixtures.maxAbsDiff(plain, want));
        assertTrue(err <= ForwardReferenceTest.TOLERANCE, name + ": ablated logits error " + err);
        assertTrue(Fixtures.maxAbsDiff(plain, want) > 100 * ForwardReferenceTest.TOLERANCE, name + ": the ablation changes the logits");
    }

    @ParameterizedTest
    @MethodSource("models")
    void readingEveryPointLeavesTheLogitsBitIdentical(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int[] ids = Fixtures.ints(Fixtures.json(name, "inner_hooks.json").get("inputs").get(0).get("input_ids"));
        State s = model.newState();
        int[] expectedStart = {0};
        for (HookName point : s.hooks().points()) {
            s.hooks().add(point, (ctx, x) -> {
                assertEquals(expectedStart[0], ctx.startPos(), name + " " + point + ": first position");
                assertEquals(ctx.size(), x.length, name + " " + point + ": values");
            });
        }
        float[] hooked = model.forward(s, ids, true);
        expectedStart[0] = ids.length;
        float[] next = model.forward(s, new int[] {ids[0]}, false);
        State plain = model.newState();
        assertArrayEquals(model.forward(plain, ids, true), hooked, name + ": prefill with every point hooked");
        assertArrayEquals(model.forward(plain, new int[] {ids[0]}, false), next, name + ": a cached step with every point hooked");
    }

    @ParameterizedTest
    @MethodSource("models")
    void activationCacheRecordsInnerPoints(String name) {
        Model model = Model.load(Fixtures.dir(name));
        JsonNode input = Fixtures.json(name, "inner_hooks.json").get("inputs").get(0);
        int[] ids = Fixtures.ints(input.get("input_ids"));
        List<HookName> points = List.of(new HookName(1, HookPoint.Z), new HookName(1, HookPoint.MLP_POST), new HookName(0, HookPoint.ROT_K),
                HookName.LN_FINAL);
        // the fixture's prompt batched with a shorter one, which must not disturb it
        Activations acts = ActivationCache.record(model, List.of(Arrays.copyOf(ids, 5), ids), points, Readout.last());
        for (HookName point : points) {
            float[] all = flatten(input.get("hooks").get(point.toString()));
            int width = all.length / ids.length;
            float[] want = Arrays.copyOfRange(all, (ids.length - 1) * width, all.length);
            assertEquals(width, acts.width(point), name + " " + point + ": width");
            assertEquals(1, acts.rowCount(point, 1), name + " " + point + ": rows");
            float err = Fixtures.maxAbsDiff(acts.rows(point, 1), want) / Math.max(1, Fixtures.maxAbs(want));
            assertTrue(err <= TOLERANCE, name + " " + point + ": cached row error " + err);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ActivationCache.record(model, List.of(ids), List.of(new HookName(0, HookPoint.PATTERN)), Readout.last()));
        assertEquals("blocks.0.attn.hook_pattern is [head][query][key], not a row per token; read it with a hook on the state", e.getMessage());
    }

    @Test
    void patternPointsRefuseRowViewsAndUnknownPointsAreNamed() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        State s = model.newState();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.hooks().add(new HookName(0, HookPoint.PATTERN), a -> a.rows()));
        assertEquals("blocks.0.attn.hook_pattern is [head][query][key], not a row per token: attach a Hook (ctx, x) -> ... there", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.hooks().add(new HookName(0, HookPoint.MLP_PRE_LINEAR), (ctx, x) -> {}));
        assertEquals("blocks.0.mlp.hook_pre_linear does not exist: this model's MLP is not gated (mlp.hook_pre is the input of its activation)", e.getMessage());
        assertEquals(new HookName(2, HookPoint.Z), HookName.parse("blocks.2.attn.hook_z"));
        assertEquals(new HookName(2, HookPoint.Z), HookName.parse("2.attn.z"));
        assertEquals(HookName.LN_FINAL, HookName.parse("ln_final.hook_normalized"));
        assertEquals("blocks.1.ln2.hook_normalized", HookName.parse("1.ln2.normalized").toString());
    }

    /** A nested array flattened row-major, {@code null} (a key the mask hides) read as {@code -inf}. */
    static float[] flatten(JsonNode a) {
        List<Float> out = new ArrayList<>();
        flatten(a, out);
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) f[i] = out.get(i);
        return f;
    }

    private static void flatten(JsonNode a, List<Float> out) {
        if (a.isArray()) {
            for (JsonNode e : a) flatten(e, out);
        } else {
            out.add(a.isNull() ? Float.NEGATIVE_INFINITY : (float) a.asDouble());
        }
    }
}
