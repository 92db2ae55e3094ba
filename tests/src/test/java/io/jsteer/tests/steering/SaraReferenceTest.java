/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static io.jsteer.tests.steering.SteeringFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.sara.Sara;
import io.jsteer.steering.sara.SvdComponents;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SARA against the reference code's hook run on Hugging Face's Pythia fixture
 * ({@code fixtures/generator/make_sara_reference.py}, torch and transformers, SVD signs by the same
 * rule): the prompt's factors and logits, the reference code's factors under torch's own SVD signs,
 * and greedy generation in the three modes (recompute = {@code generate(use_cache=False)}, call =
 * {@code generate()} with the cache, history).
 */
class SaraReferenceTest {
    static Model model;
    static JsonNode ref;
    static HookName hook;
    static int[] prompt, attract, repel;
    static double coeff;
    static int d;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        ref = Fixtures.json(SteeringFixtures.PYTHIA, "sara.json");
        hook = new HookName(ref.get("layer").asInt(), HookPoint.RESID_PRE);
        prompt = Fixtures.ints(ref.get("prompt_ids"));
        attract = Fixtures.ints(ref.get("attract_ids"));
        repel = Fixtures.ints(ref.get("repel_ids"));
        coeff = ref.get("coeff").asDouble();
        d = model.config().hiddenSize();
    }

    static Sara.Steer fit(Sara.Mode mode) {
        return new Sara(hook, coeff, PositionRule.all(), mode).fit(model, new ContrastSet(List.of(attract), List.of(repel)));
    }

    /** The unsteered rows of {@code ids} at the hook. */
    static float[] rows(int[] ids) {
        State s = model.newState();
        float[][] seen = new float[1][];
        s.hooks().add(hook, (ctx, x) -> seen[0] = Arrays.copyOf(x, ctx.tokens() * ctx.width()));
        model.forward(s, ids, false);
        return seen[0];
    }

    @Test
    void promptFactorsAndLogitsMatchTheReferenceInEveryMode() {
        float[] x = rows(prompt);
        double[] expected = doubles(ref.get("prompt_factors"));
        float[] logits = Fixtures.floats(ref.get("prompt_logits"));
        float[] first = null;
        for (Sara.Mode mode : Sara.Mode.values()) {
            Sara.Steer steer = fit(mode);
            double[] f = steer.factors(x, prompt.length);
            for (int i = 0; i < d; i++) assertEquals(expected[i], f[i], 2e-5, mode + ": factor of neuron " + i);
            float[] got = SteeringFixtures.logits(model, steer, prompt);
            assertClose(logits, got, 1e-5, mode + ": steered prompt logits, every position");
            // the defining property: on the prompt the three modes are one computation
            if (first == null) first = got;
            else assertArrayEquals(first, got, mode + " vs history on the prompt");
        }
    }

    @Test
    void torchsOwnSvdSignsGiveTheReferenceCodesFactors() {
        float[] s = rows(prompt), a = rows(attract), r = rows(repel);
        int k = Math.min(prompt.length, Math.min(attract.length, repel.length));
        JsonNode torch = ref.get("torch_signs");
        JsonNode flips = torch.get("flips");
        double[] cs = SvdComponents.of(s, prompt.length, d, k), ca = SvdComponents.of(a, attract.length, d, k), cr = SvdComponents.of(r, repel.length, d, k);
        double[] ruled = factors(cs, ca, cr, k);

        double[] f = factors(flip(cs, Fixtures.ints(flips.get("steered")), k), flip(ca, Fixtures.ints(flips.get("attract")), k),
                flip(cr, Fixtures.ints(flips.get("repel")), k), k);
        double[] expected = doubles(torch.get("factors"));
        double err = 0, apart = 0;
        for (int i = 0; i < d; i++) {
            err = Math.max(err, Math.abs(expected[i] - f[i]));
            apart = Math.max(apart, Math.abs(expected[i] - ruled[i]));
        }
        System.out.printf("torch-sign factors: max abs err %.3g; max |f_torch - f_rule| %.3g%n", err, apart);
        // torch's SVD ran in float32
        assertTrue(err < 1e-4, "torch-sign factors off by " + err);
        assertTrue(apart > 1, "the sign rule should matter on this fixture, max difference " + apart);

        // flipping a component in all three matrices together changes nothing
        int[] one = new int[k];
        Arrays.fill(one, 1);
        one[1] = -1;
        double[] together = factors(flip(cs, one, k), flip(ca, one, k), flip(cr, one, k), k);
        for (int i = 0; i < d; i++) assertEquals(ruled[i], together[i], 1e-12);
        // ... in one of them, it does
        double[] alone = factors(flip(cs, one, k), ca, cr, k);
        assertTrue(Arrays.stream(diff(alone, ruled)).max().orElseThrow() > 0.1);
    }

    /** One step of a greedy generation: the token chosen and the logits it was chosen from. */
    record Step(int token, float[] logits) {}

    /** Greedy generation through the Engine, alongside another sequence, keeping every step's logits. */
    static List<Step> engine(Sara.Steer steer, int n) {
        List<Step> steps = new ArrayList<>();
        int vocab = model.config().vocabSize();
        Job steered = new Job() {
            Hooks.Handle handle;

            @Override
            public int[] prompt() {
                return prompt.clone();
            }

            @Override
            public void start(State state) {
                handle = steer.attach(state);
            }

            @Override
            public int next(float[] logits) {
                int t = Sampler.argmax(logits, 0, vocab);
                steps.add(new Step(t, logits.clone()));
                return steps.size() < n ? t : END;
            }

            @Override
            public void end(Exception failure) {
                handle.close();
            }
        };
        int[] other = {7};
        Job plain = new Job() {
            int left = n + 3;

            @Override
            public int[] prompt() {
                return other;
            }

            @Override
            public int next(float[] logits) {
                return --left > 0 ? Sampler.argmax(logits, 0, vocab) : END;
            }
        };
        new Engine(model, 2).run(List.of(plain, steered));
        return steps;
    }

    @Test
    void generationInEachModeMatchesTheReference() {
        JsonNode gen = ref.get("generation");
        int n = gen.get("recompute").get("tokens").size();
        List<List<Step>> byMode = new ArrayList<>();
        for (Sara.Mode mode : Sara.Mode.values()) {
            String name = mode.name().toLowerCase(Locale.ROOT);
            JsonNode expected = gen.get(name);
            Sara.Steer steer = fit(mode);
            List<Step> steps = engine(steer, n);
            byMode.add(steps);
            assertArrayEquals(Fixtures.ints(expected.get("tokens")), steps.stream().mapToInt(Step::token).toArray(), name + ": tokens");
            for (int i = 0; i < n; i++) assertClose(Fixtures.floats(expected.get("logits").get(i)), steps.get(i).logits(), 1e-5, name + ": logits of step " + i);
            // the Generator gives the same continuation as the Engine
            assertArrayEquals(Fixtures.ints(expected.get("tokens")), generate(steer, n), name + ": Generator");
        }
        List<Step> history = byMode.get(Sara.Mode.HISTORY.ordinal()), recompute = byMode.get(Sara.Mode.RECOMPUTE.ordinal());
        // the first token comes from the prompt alone; after it re-steering the earlier rows changes the logits
        assertArrayEquals(history.getFirst().logits(), recompute.getFirst().logits());
        for (int i = 1; i < n; i++) {
            float diff = Fixtures.maxAbsDiff(history.get(i).logits(), recompute.get(i).logits());
            assertTrue(diff > 0.1, "step " + i + ": recompute and history should differ, max |diff| " + diff);
        }
    }

    static int[] generate(Sara.Steer steer, int n) {
        State s = model.newState();
        try (Hooks.Handle h = steer.attach(s)) {
            return new Generator(model).generate(s, prompt, n, Sampler.greedy(), null, null).tokens();
        }
    }

    @Test
    void recomputeSteersEarlierPositionsAgainAndHistoryDoesNot() {
        for (Sara.Mode mode : List.of(Sara.Mode.RECOMPUTE, Sara.Mode.HISTORY)) {
            State s = model.newState();
            Hooks.Handle h = fit(mode).attach(s);
            List<float[]> firstRow = new ArrayList<>();
            s.hooks().add(hook, (ctx, x) -> {
                if (ctx.startPos() == 0) firstRow.add(Arrays.copyOf(x, d));
            });
            new Generator(model).generate(s, prompt, 4, Sampler.greedy(), null, null);
            h.close();
            assertFalse(s.hooks().recomputesEachToken(), "closing the handle withdraws the request");
            if (mode == Sara.Mode.HISTORY) {
                assertEquals(1, firstRow.size(), "history: position 0 is steered once, in the prompt");
            } else {
                assertEquals(4, firstRow.size(), "recompute: the prompt, then the whole sequence for each token but the last");
                assertTrue(Fixtures.maxAbsDiff(firstRow.getFirst(), firstRow.getLast()) > 1e-3, "position 0 steered again with a newer factor");
            }
        }
    }

    @Test
    void recomputeRefusesACallThatDoesNotStartAtPositionZero() {
        State s = model.newState();
        fit(Sara.Mode.RECOMPUTE).attach(s);
        model.forward(s, prompt, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(s, new int[] {3}, false));
        assertEquals("SARA mode=recompute got positions from 4: each forward call must hold the whole sequence from position 0"
                + " (Generator and Engine do this while it is attached)", e.getMessage());
    }

    static double[] factors(double[] cs, double[] ca, double[] cr, int k) {
        double[] cosA = SvdComponents.rowCosines(cs, k, ca, k, d, k), cosR = SvdComponents.rowCosines(cs, k, cr, k, d, k);
        double[] f = new double[d];
        for (int i = 0; i < d; i++) f[i] = 1 + coeff * (cosA[i] - cosR[i]);
        return f;
    }

    static double[] flip(double[] c, int[] signs, int k) {
        double[] out = c.clone();
        for (int i = 0; i < d; i++) for (int j = 0; j < k; j++) out[i * k + j] *= signs[j];
        return out;
    }

    static double[] diff(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.abs(a[i] - b[i]);
        return out;
    }

    static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }
}
