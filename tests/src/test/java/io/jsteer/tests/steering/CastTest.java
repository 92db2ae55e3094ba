/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.cast.Cast;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
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

/**
 * CAST on the Pythia fixture: every sequence of a batch gets the behaviour vector exactly when its
 * own prompt meets the condition (the reference: the same prompt alone, with the plain vector or
 * nothing), prompt and generated tokens alike.
 */
class CastTest {
    static Model model;
    static ContrastSet data;
    static HookName condition;
    static SteeringVector behaviour;
    static List<int[]> prompts;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        JsonNode ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        data = new ContrastSet(Fixtures.intLists(ref.get("caa").get("positive_ids")), Fixtures.intLists(ref.get("caa").get("negative_ids")));
        condition = new HookName(0, HookPoint.RESID_POST);
        behaviour = new Caa(new HookName(1, HookPoint.RESID_POST), 1).fitVector(model, data);
        prompts = new ArrayList<>(data.positive());
        prompts.addAll(data.negative());
        prompts.add(Fixtures.ints(ref.get("eval_input_ids")));
    }

    /** The similarity of each prompt, from its rows read here (mean over the prompt, rounded to float as the method reads it). */
    static double[] similarities(double[] c) {
        int d = model.config().hiddenSize();
        var acts = ActivationCache.record(model, prompts, List.of(condition), Readout.all());
        double[] sims = new double[prompts.size()];
        for (int p = 0; p < sims.length; p++) {
            float[] r = acts.rows(condition, p);
            int n = r.length / d;
            double[] h = new double[d];
            for (int i = 0; i < d; i++) {
                double s = 0;
                for (int t = 0; t < n; t++) s += r[t * d + i];
                h[i] = (float) (s / n);
            }
            sims[p] = Cast.similarity(h, c);
        }
        return sims;
    }

    @Test
    void eachSequenceOfABatchIsSteeredIffItsPromptMeetsTheCondition() {
        Cast.Conditional learnt = new Cast(condition, behaviour, 4, Cast.Aggregate.MEAN, PositionRule.all(), null).fit(model, data);
        double[] sims = similarities(learnt.conditionVector());
        System.out.printf("cast on pythia: %s; similarities %s%n", learnt.describe(), Arrays.toString(sims));
        assertTrue(learnt.condition().f1() > 0);
        // a threshold at the median similarity, so that the batch mixes sequences that meet it and ones that do not
        double[] sorted = sims.clone();
        Arrays.sort(sorted);
        double median = (sorted[sims.length / 2 - 1] + sorted[sims.length / 2]) / 2;
        for (Cast.Comparator cmp : Cast.Comparator.values()) {
            Cast.Conditional gated = new Cast(condition, behaviour, 4, Cast.Aggregate.MEAN, PositionRule.all(), new Cast.Condition(median, cmp, Double.NaN)).fit(model, data);
            AddVector plain = new AddVector(behaviour, 4, PositionRule.all());
            List<Model.Step> steps = new ArrayList<>();
            for (int[] p : prompts) {
                State s = model.newState();
                gated.attach(s);
                steps.add(new Model.Step(s, p, true));
            }
            List<float[]> batch = model.forward(steps);
            int met = 0;
            for (int p = 0; p < prompts.size(); p++) {
                boolean meets = cmp == Cast.Comparator.LARGER ? sims[p] < median : sims[p] > median;
                if (meets) met++;
                float[] alone = SteeringFixtures.logits(model, meets ? plain : null, prompts.get(p));
                assertArrayEquals(alone, batch.get(p), "prompt " + p + " (" + (meets ? "meets" : "does not meet") + " " + cmp + " " + median + ")");
            }
            assertTrue(met > 0 && met < prompts.size(), "a mixed batch: " + met + " of " + prompts.size());
        }
    }

    @Test
    void theDecisionHoldsForGeneratedTokens() {
        double[] sims = similarities(new Cast(condition, behaviour, 4, Cast.Aggregate.MEAN, PositionRule.all(), null).fit(model, data).conditionVector());
        int[] prompt = prompts.getLast();
        double s = sims[sims.length - 1];
        AddVector plain = new AddVector(behaviour, 4, PositionRule.all());
        for (Cast.Condition c : List.of(new Cast.Condition(s + 0.01, Cast.Comparator.LARGER, Double.NaN), new Cast.Condition(s + 0.01, Cast.Comparator.SMALLER, Double.NaN))) {
            Cast.Conditional gated = new Cast(condition, behaviour, 4, Cast.Aggregate.MEAN, PositionRule.all(), c).fit(model, data);
            int[] want = SteeringFixtures.greedyUncached(model, c.met(s) ? plain : null, prompt, 6);
            assertArrayEquals(want, SteeringFixtures.greedyCached(model, gated, prompt, 6), c.toString());
        }
    }

    @Test
    void theConditionMustComeFirst() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Cast(new HookName(2, HookPoint.RESID_POST), behaviour, 1, Cast.Aggregate.MEAN,
                PositionRule.all(), null)).getMessage().contains("would act before the condition"));
        Cast.Conditional late = new Cast(new HookName(1, HookPoint.RESID_POST), new SteeringVector(new HookName(1, HookPoint.RESID_PRE), behaviour.direction(), "caa",
                java.util.Map.of(), "m"), 1, Cast.Aggregate.LAST, PositionRule.all(), new Cast.Condition(0.5, Cast.Comparator.SMALLER, Double.NaN)).fit(model, data);
        State s = model.newState();
        late.attach(s);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(s, prompts.getFirst(), false));
        assertEquals("CAST: the behaviour hook blocks.1.hook_resid_pre saw the prompt before the condition hook blocks.1.hook_resid_post did:"
                + " the condition must come first in the forward pass", e.getMessage());
    }
}
