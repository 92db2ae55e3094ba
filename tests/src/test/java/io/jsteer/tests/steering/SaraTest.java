/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static io.jsteer.tests.steering.SteeringFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.sara.Sara;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SARA on the Pythia fixture: the paper's per-neuron factors, identity cases, KV-cached decoding. */
class SaraTest {
    static Model model;
    static JsonNode ref;
    static HookName hook;
    static int[] eval;
    static ContrastSet pair;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        // the paper steers the input of a block
        hook = new HookName(2, HookPoint.RESID_PRE);
        eval = Fixtures.ints(ref.get("eval_input_ids"));
        JsonNode a = ref.get("actadd");
        pair = new ContrastSet(List.of(Fixtures.ints(a.get("prompt_plus_ids"))), List.of(Fixtures.ints(a.get("prompt_minus_ids"))));
    }

    static List<float[]> recorder(State s, HookName point) {
        List<float[]> seen = new ArrayList<>();
        s.hooks().add(point, (ctx, x) -> seen.add(x.clone()));
        return seen;
    }

    @Test
    void multipliesEveryRowByThePerNeuronFactor() {
        Sara.Steer steer = new Sara(hook, 2.0).fit(model, pair);
        State s = model.newState();
        List<float[]> before = recorder(s, hook);
        steer.attach(s);
        List<float[]> after = recorder(s, hook);
        model.forward(s, eval, false);
        float[] x = before.getFirst(), y = after.getFirst();
        double[] f = steer.factors(x, eval.length);
        float[] expected = new float[x.length];
        for (int i = 0; i < x.length; i++) expected[i] = (float) (x[i] * f[i % 64]);
        assertArrayEquals(expected, y);
        double spread = Arrays.stream(f).map(v -> Math.abs(v - 1)).max().orElseThrow();
        assertTrue(spread > 0.1, "the factors should move activations here, max |f - 1| = " + spread);
    }

    @Test
    void attractEqualToRepelLeavesTheModelUnchanged() {
        int[] p = pair.positive().getFirst();
        Sara.Steer same = new Sara(hook, 5.0).fit(model, new ContrastSet(List.of(p), List.of(p.clone())));
        assertArrayEquals(SteeringFixtures.logits(model, null, eval), SteeringFixtures.logits(model, same, eval));
        int[] prompt = Arrays.copyOf(eval, 7);
        assertArrayEquals(SteeringFixtures.greedyCached(model, null, prompt, 6), SteeringFixtures.greedyCached(model, same, prompt, 6));
    }

    @Test
    void cachedDecodingAppliesTheFullSequenceFactorToTheNewToken() {
        Sara.Steer steer = new Sara(hook, 2.0).fit(model, pair);
        int[] prompt = Arrays.copyOf(eval, 8);
        int[] next = {eval[8], eval[9]};

        State cached = model.newState();
        steer.attach(cached);
        List<float[]> steps = recorder(cached, hook);
        model.forward(cached, prompt, false);
        model.forward(cached, new int[] {next[0]}, false);
        model.forward(cached, new int[] {next[1]}, false);

        State full = model.newState();
        steer.attach(full);
        List<float[]> whole = recorder(full, hook);
        model.forward(full, Arrays.copyOf(eval, 10), false);

        float[] all = whole.getFirst();
        assertClose(Arrays.copyOfRange(all, 9 * 64, 10 * 64), steps.get(2), 1e-5, "newest token: cached vs full recomputation");
        // (earlier rows differ by design: in the cache they were steered with the factor of a shorter history)

        // reusing the state for a new prompt starts a new history
        cached.reset();
        model.forward(cached, Arrays.copyOf(eval, 10), false);
        assertClose(all, steps.get(3), 1e-6, "after reset");
    }

    @Test
    void refusesToJoinASequenceMidway() {
        Sara.Steer steer = new Sara(hook, 2.0).fit(model, pair);
        State s = model.newState();
        model.forward(s, Arrays.copyOf(eval, 4), false);
        steer.attach(s);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(s, new int[] {3}, false));
        assertEquals("SARA saw position 4 but only 0 earlier rows: attach it before the prompt is processed", e.getMessage());
    }
}
