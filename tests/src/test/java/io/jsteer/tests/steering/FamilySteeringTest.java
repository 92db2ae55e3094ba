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
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.ace.AffineConceptEditing;
import io.jsteer.steering.actadd.ActAdd;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.sara.Sara;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The steering methods, unchanged, on every Llama-like family (Llama 3 and 2, Mistral, Qwen 2 and
 * 3). CAA and ActAdd against Hugging Face: each fixture's {@code steering.json} holds the vectors
 * and the logits and greedy generations of the HF model with the vector added by a forward hook on
 * {@code model.model.layers[L]}. SARA and ACE against their defining properties, computed here
 * from the activations the hooks see.
 */
class FamilySteeringTest {
    /** Max abs error of steered logits, relative to their scale: as the unsteered forward pass (ForwardReferenceTest). */
    static final double LOGITS = 2e-6;

    static Stream<String> families() {
        return Fixtures.llamaLike();
    }

    record Fixture(Model model, JsonNode ref, HookName hook, int[] eval, ContrastSet caa, ContrastSet pair) {
        static Fixture of(String name) {
            JsonNode ref = Fixtures.json(name, "steering.json");
            JsonNode c = ref.get("caa"), a = ref.get("actadd");
            return new Fixture(Model.load(Fixtures.dir(name)), ref, new HookName(ref.get("layer").asInt(), HookPoint.RESID_POST),
                    ints(ref.get("eval_input_ids")),
                    new ContrastSet(Fixtures.intLists(c.get("positive_ids")), Fixtures.intLists(c.get("negative_ids"))),
                    new ContrastSet(List.of(ints(a.get("prompt_plus_ids"))), List.of(ints(a.get("prompt_minus_ids")))));
        }

        /** Steered logits, argmax and (where recorded) greedy generation with and without KV cache against HF. */
        void checkSteered(String name, String variant, Intervention steering) {
            JsonNode s = ref.get("steered").get(variant);
            float[] logits = SteeringFixtures.logits(model, steering, eval);
            assertClose(floats(s.get("logits")), logits, LOGITS, name + " " + variant + " logits");
            int vocab = model.config().vocabSize();
            int[] argmax = new int[eval.length];
            for (int t = 0; t < eval.length; t++) argmax[t] = SteeringFixtures.argmax(logits, t * vocab, vocab);
            assertArrayEquals(ints(s.get("argmax")), argmax, name + " " + variant + " argmax");
            JsonNode g = s.get("generation");
            int[] prompt = ints(g.get("prompt_ids"));
            int n = g.get("max_new_tokens").asInt();
            int[] expected = ints(g.get("new_ids"));
            assertArrayEquals(expected, SteeringFixtures.greedyCached(model, steering, prompt, n), name + " " + variant + " greedy with KV cache");
            assertArrayEquals(expected, SteeringFixtures.greedyUncached(model, steering, prompt, n), name + " " + variant + " greedy without cache");
            if (g.get("hf_generate_equals_no_cache_loop").asBoolean()) {
                assertArrayEquals(ints(g.get("hf_generate_new_ids")), expected, name + " " + variant + " HF generate()");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void caaMatchesHuggingFace(String name) {
        Fixture f = Fixture.of(name);
        assertClose(floats(f.ref().get("unsteered").get("logits")), SteeringFixtures.logits(f.model(), null, f.eval()), LOGITS, name + " unsteered");
        SteeringVector v = new Caa(f.hook(), 1).fitVector(f.model(), f.caa());
        assertClose(floats(f.ref().get("caa").get("vector")), v.direction(), 1e-5, name + " caa vector");
        f.checkSteered(name, "caa_x1", new Caa(f.hook(), 1).fit(f.model(), f.caa()));
        f.checkSteered(name, "caa_x4", new Caa(f.hook(), 4).fit(f.model(), f.caa()));
    }

    @ParameterizedTest
    @MethodSource("families")
    void actAddMatchesHuggingFace(String name) {
        Fixture f = Fixture.of(name);
        double c = f.ref().get("actadd").get("coeff").asDouble();
        f.checkSteered(name, "actadd_last", new ActAdd(f.hook(), c, ActAdd.Variant.LAST_TOKEN).fit(f.model(), f.pair()));
    }

    /** SARA (Tlaie 2024) multiplies every row of the steered block input by its per-neuron factor; equal attract and repel sets change nothing. */
    @ParameterizedTest
    @MethodSource("families")
    void saraScalesEveryNeuronByItsFactor(String name) {
        Fixture f = Fixture.of(name);
        Model model = f.model();
        int d = model.config().hiddenSize();
        HookName hook = new HookName(2, HookPoint.RESID_PRE);
        Sara.Steer steer = new Sara(hook, 2.0).fit(model, f.pair());
        State s = model.newState();
        List<float[]> before = recorder(s, hook);
        steer.attach(s);
        List<float[]> after = recorder(s, hook);
        model.forward(s, f.eval(), false);
        float[] x = before.getFirst();
        double[] factor = steer.factors(x, f.eval().length);
        float[] expected = new float[x.length];
        for (int i = 0; i < x.length; i++) expected[i] = (float) (x[i] * factor[i % d]);
        assertArrayEquals(expected, after.getFirst(), name);
        double spread = Arrays.stream(factor).map(v -> Math.abs(v - 1)).max().orElseThrow();
        assertTrue(spread > 0.1, name + ": the factors should move activations here, max |f - 1| = " + spread);

        int[] p = f.pair().positive().getFirst();
        Sara.Steer same = new Sara(hook, 5.0).fit(model, new ContrastSet(List.of(p), List.of(p.clone())));
        assertArrayEquals(SteeringFixtures.logits(model, null, f.eval()), SteeringFixtures.logits(model, same, f.eval()), name + ": attract = repel");
    }

    /** ACE (Marshall et al. 2024): the edited activation's projection on the concept direction, relative to the reference mean, is alpha, and nothing else moves. */
    @ParameterizedTest
    @MethodSource("families")
    void aceSetsTheProjectionToAlpha(String name) {
        Fixture f = Fixture.of(name);
        Model model = f.model();
        for (double alpha : new double[] {0, -1.5, 3}) {
            AffineConceptEditing.Edit edit = new AffineConceptEditing(f.hook(), alpha).fit(model, f.caa());
            float[] r = edit.concept().unit().direction();
            double[] ref = edit.concept().reference();
            State s = model.newState();
            List<float[]> before = recorder(s, f.hook());
            edit.attach(s);
            List<float[]> after = recorder(s, f.hook());
            model.forward(s, f.eval(), false);
            int d = r.length;
            float[] x = before.getFirst(), y = after.getFirst();
            for (int t = 0; t < f.eval().length; t++) {
                double proj = 0, along = 0, norm = 0;
                for (int i = 0; i < d; i++) {
                    proj += (y[t * d + i] - ref[i]) * r[i];
                    along += (double) (y[t * d + i] - x[t * d + i]) * r[i];
                    norm += (double) y[t * d + i] * y[t * d + i];
                }
                double scale = Math.max(1, Math.sqrt(norm)), moved = 0;
                for (int i = 0; i < d; i++) moved = Math.max(moved, Math.abs(y[t * d + i] - x[t * d + i] - along * r[i]));
                assertEquals(alpha, proj, 1e-6 * scale, name + " alpha " + alpha + ", position " + t);
                assertTrue(moved <= 1e-6 * scale, name + ": orthogonal change " + moved);
            }
        }
        // the concept gap is the CAA vector's length
        double gap = new AffineConceptEditing(f.hook(), 0).fit(model, f.caa()).concept().gap();
        assertEquals(new Caa(f.hook(), 1).fitVector(model, f.caa()).norm(), gap, 1e-5 * gap, name);
    }

    static List<float[]> recorder(State s, HookName point) {
        List<float[]> seen = new ArrayList<>();
        s.hooks().add(point, (ctx, x) -> seen.add(x.clone()));
        return seen;
    }
}
