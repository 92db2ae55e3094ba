/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static io.jsteer.tests.Fixtures.floats;
import static io.jsteer.tests.Fixtures.ints;
import static io.jsteer.tests.steering.SteeringFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.actadd.ActAdd;
import io.jsteer.steering.actadd.PositionalAdd;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ActAdd (three variants) and CAA against Hugging Face: vectors, steered logits and steered greedy
 * generations (with and without KV cache) from {@code pythia-tiny-parallel/steering.json}.
 */
class ActAddCaaReferenceTest {
    static Model model;
    static JsonNode ref;
    static HookName hook;
    static int[] eval;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        hook = new HookName(ref.get("layer").asInt(), HookPoint.RESID_POST);
        eval = ints(ref.get("eval_input_ids"));
    }

    static ContrastSet actaddPair() {
        JsonNode a = ref.get("actadd");
        return new ContrastSet(List.of(ints(a.get("prompt_plus_ids"))), List.of(ints(a.get("prompt_minus_ids"))));
    }

    static ContrastSet caaSet() {
        JsonNode c = ref.get("caa");
        return new ContrastSet(Fixtures.intLists(c.get("positive_ids")), Fixtures.intLists(c.get("negative_ids")));
    }

    /** Steered logits on the eval input and, when the fixture has one, the steered generation. */
    static void checkSteered(String name, Intervention steering) {
        JsonNode s = ref.get("steered").get(name);
        float[] logits = SteeringFixtures.logits(model, steering, eval);
        assertClose(floats(s.get("logits")), logits, 1e-4, name + " logits");
        int vocab = model.config().vocabSize();
        int[] argmax = new int[eval.length];
        for (int t = 0; t < eval.length; t++) argmax[t] = SteeringFixtures.argmax(logits, t * vocab, vocab);
        assertArrayEquals(ints(s.get("argmax")), argmax, name + " argmax");
        JsonNode g = s.get("generation");
        if (g == null || g.isNull()) return;
        int[] prompt = ints(g.get("prompt_ids"));
        int n = g.get("max_new_tokens").asInt();
        int[] expected = ints(g.get("new_ids"));
        assertArrayEquals(expected, SteeringFixtures.greedyCached(model, steering, prompt, n), name + " greedy with KV cache");
        assertArrayEquals(expected, SteeringFixtures.greedyUncached(model, steering, prompt, n), name + " greedy without cache");
        assertTrue(g.get("hf_generate_equals_no_cache_loop").asBoolean());
        assertArrayEquals(ints(g.get("hf_generate_new_ids")), expected, name + " HF generate()");
    }

    @Test
    void activationCacheReadsHiddenStates() {
        JsonNode a = ref.get("actadd");
        Activations acts = ActivationCache.record(model, List.of(ints(a.get("prompt_plus_ids")), ints(a.get("prompt_minus_ids"))), List.of(hook), Readout.all());
        assertClose(floats(a.get("h_plus")), acts.rows(hook, 0), 1e-5, "h_L(plus)");
        assertClose(floats(a.get("h_minus")), acts.rows(hook, 1), 1e-5, "h_L(minus)");
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, acts.positions(hook, 0));
    }

    @Test
    void unsteeredBaseline() {
        float[] logits = SteeringFixtures.logits(model, null, eval);
        assertClose(floats(ref.get("unsteered").get("logits")), logits, 1e-4, "unsteered logits");
    }

    @Test
    void actAddLastToken() {
        double c = ref.get("actadd").get("coeff").asDouble();
        AddVector steering = (AddVector) new ActAdd(hook, c, ActAdd.Variant.LAST_TOKEN).fit(model, actaddPair());
        assertClose(floats(ref.get("steered").get("actadd_last").get("vector")), SteeringFixtures.scaled(steering.vector().direction(), c), 1e-5, "actadd_last vector");
        checkSteered("actadd_last", steering);
    }

    @Test
    void actAddMeanOverPositions() {
        double c = ref.get("actadd").get("coeff").asDouble();
        SteeringVector v = new ActAdd(hook, c, ActAdd.Variant.MEAN).fitVector(model, actaddPair());
        assertClose(floats(ref.get("steered").get("actadd_mean").get("vector")), SteeringFixtures.scaled(v.direction(), c), 1e-5, "actadd_mean vector");
        checkSteered("actadd_mean", new ActAdd(hook, c, ActAdd.Variant.MEAN).fit(model, actaddPair()));
    }

    @Test
    void actAddPositionalInjection() {
        double c = ref.get("actadd").get("coeff").asDouble();
        ActAdd method = new ActAdd(hook, c, ActAdd.Variant.POSITIONAL);
        float[] m = method.fitMatrix(model, actaddPair());
        assertClose(floats(ref.get("steered").get("actadd_positional").get("matrix")), SteeringFixtures.scaled(m, c), 1e-5, "actadd_positional matrix");
        Intervention steering = method.fit(model, actaddPair());
        assertEquals(5, ((PositionalAdd) steering).rows());
        checkSteered("actadd_positional", steering);

        // generated tokens are never steered: a decode step gives the same logits with the hook detached
        State on = model.newState(), off = model.newState();
        steering.attach(on);
        Hooks.Handle prefillOnly = steering.attach(off);
        model.forward(on, eval, false);
        model.forward(off, eval, false);
        prefillOnly.close();
        assertArrayEquals(model.forward(off, new int[] {7}, false), model.forward(on, new int[] {7}, false));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SteeringFixtures.logits(model, steering, new int[] {1, 2, 3}));
        assertEquals("ActAdd positional injection: the prompt has 3 tokens, fewer than the 5 rows of the steering matrix", e.getMessage());
    }

    @Test
    void caaVectorAndSteering() {
        SteeringVector v = new Caa(hook, 1).fitVector(model, caaSet());
        assertClose(floats(ref.get("caa").get("vector")), v.direction(), 1e-5, "caa vector");
        assertEquals("last token", v.parameters().get("readout"));
        checkSteered("caa_x1", new Caa(hook, 1).fit(model, caaSet()));
        AddVector x4 = new Caa(hook, 4).fit(model, caaSet());
        assertClose(floats(ref.get("steered").get("caa_x4").get("vector")), SteeringFixtures.scaled(x4.vector().direction(), 4), 1e-5, "caa_x4 vector");
        checkSteered("caa_x4", x4);
    }

    @Test
    void vectorsComposeByAddition() {
        SteeringVector v = new Caa(hook, 1).fitVector(model, caaSet());
        Intervention x1 = new AddVector(v, 1, PositionRule.all());
        Intervention x3 = new AddVector(v, 3, PositionRule.all());
        State s = model.newState();
        x1.attach(s);
        Hooks.Handle second = x3.attach(s);
        assertClose(floats(ref.get("steered").get("caa_x4").get("logits")), model.forward(s, eval, true), 1e-4, "caa x1 + caa x3 = caa_x4");
        second.close();
        s.reset();
        assertClose(floats(ref.get("steered").get("caa_x1").get("logits")), model.forward(s, eval, true), 1e-4, "detached x3 leaves caa_x1");
    }

    @Test
    void recordsSeveralPointsInOnePass() {
        JsonNode input = Fixtures.json(SteeringFixtures.PYTHIA, "reference.json").get("inputs").get(1);
        int[] ids = ints(input.get("input_ids"));
        List<HookName> points = List.of(new HookName(2, HookPoint.RESID_POST), new HookName(0, HookPoint.RESID_POST), new HookName(3, HookPoint.RESID_POST));
        Activations acts = ActivationCache.record(model, List.of(ids), points, Readout.at(2));
        for (HookName p : points) {
            float[] block = floats(input.get("block_outputs").get(p.layer()));
            assertClose(Arrays.copyOfRange(block, 2 * 64, 3 * 64), acts.rows(p, 0), 1e-5, p + " token 2");
            assertArrayEquals(new int[] {2}, acts.positions(p, 0));
        }
    }

    @Test
    void wrongWidthIsRefusedWhenApplied() {
        float[] ones = new float[32];
        Arrays.fill(ones, 1);
        SteeringVector narrow = new SteeringVector(hook, ones, "caa", Map.of(), "m");
        AddVector add = new AddVector(narrow, 1, PositionRule.all());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SteeringFixtures.logits(model, add, eval));
        assertEquals("steering vector for blocks.1.hook_resid_post has 32 values, the model's hidden size is 64", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> narrow.requireCompatible(model.config()));
        assertEquals("steering vector for blocks.1.hook_resid_post has 32 values, the model's hidden size is 64", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ContrastSet(List.of(new int[0]), List.of(new int[] {3})));
        assertEquals("contrast set has an empty positive prompt", e.getMessage());
    }

    @Test
    void caaLastTokenActivationsMatch() {
        JsonNode c = ref.get("caa");
        Activations acts = ActivationCache.record(model, Fixtures.intLists(c.get("positive_ids")), List.of(hook), Readout.last());
        for (int i = 0; i < acts.prompts(); i++) {
            assertClose(floats(c.get("positive_last_token_acts").get(i)), acts.rows(hook, i), 1e-5, "positive " + i + " last token");
        }
    }

    @Test
    void badContrastSets() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Caa(hook, 1).fit(model, new ContrastSet(List.of(new int[] {1}, new int[] {2}), List.of(new int[] {3}))));
        assertEquals("contrast pairs are unequal: 2 positive vs 1 negative prompts", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ContrastSet(List.of(), List.of(new int[] {3})));
        assertEquals("contrast set has no positive prompts", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ActAdd(hook, 1, ActAdd.Variant.LAST_TOKEN).fit(model, caaSet()));
        assertEquals("ActAdd takes one prompt pair (p+, p-); got 4 positive and 4 negative prompts (CAA averages over many pairs)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ActAdd(hook, 1, ActAdd.Variant.MEAN).fit(model, new ContrastSet(List.of(new int[] {1, 2}), List.of(new int[] {3}))));
        assertEquals("ActAdd mean variant needs p+ and p- of equal length (pad the shorter one); got 2 and 1 tokens", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Caa(new HookName(9, HookPoint.RESID_POST), 1).fit(model, caaSet()));
        assertEquals("layer 9 is out of range: the model has layers 0..3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Caa(new HookName(1, HookPoint.RESID_MID), 1).fit(model, caaSet()));
        assertTrue(e.getMessage().startsWith("blocks.1.hook_resid_mid does not exist"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Caa(hook, 1, Readout.at(-6), PositionRule.all()).fit(model, caaSet()));
        assertEquals("prompt 0: readout token -6 does not exist in a prompt of 4 tokens", e.getMessage());
    }
}
