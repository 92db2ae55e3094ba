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
import io.jsteer.steering.ace.AffineConceptEditing;
import io.jsteer.steering.ace.DirectionalAblation;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.sparse.SparseMeanDifference;
import io.jsteer.steering.sparse.WhitenedSparseMeanDifference;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.tests.HfConcept;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sparse selections, affine concept editing and directional ablation on the Pythia fixture. */
class EditingMethodsTest {
    static Model model;
    static ContrastSet caa;
    static HookName hook;
    static int[] eval;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        JsonNode ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        hook = new HookName(ref.get("layer").asInt(), HookPoint.RESID_POST);
        caa = new ContrastSet(Fixtures.intLists(ref.get("caa").get("positive_ids")), Fixtures.intLists(ref.get("caa").get("negative_ids")));
        eval = Fixtures.ints(ref.get("eval_input_ids"));
    }

    /** Copies of the activations a hook attached at {@code point} sees, one array per forward call. */
    static List<float[]> recorder(State s, HookName point) {
        List<float[]> seen = new ArrayList<>();
        s.hooks().add(point, (ctx, x) -> seen.add(x.clone()));
        return seen;
    }

    static double dot(float[] x, int off, float[] r) {
        double s = 0;
        for (int i = 0; i < r.length; i++) s += (double) x[off + i] * r[i];
        return s;
    }

    static double norm(float[] x, int off, int d) {
        double s = 0;
        for (int i = 0; i < d; i++) s += (double) x[off + i] * x[off + i];
        return Math.sqrt(s);
    }

    @Test
    void effectToNoiseWithAllCoordinatesIsCaa() {
        int d = model.config().hiddenSize();
        SteeringVector sparse = new SparseMeanDifference(hook, 1, d).fitVector(model, caa);
        SteeringVector dense = new Caa(hook, 1).fitVector(model, caa);
        assertArrayEquals(dense.direction(), sparse.direction());
        SteeringVector top8 = new SparseMeanDifference(hook, 1, 8).fitVector(model, caa);
        int kept = 0;
        for (int i = 0; i < d; i++) {
            if (top8.direction()[i] != 0) {
                kept++;
                assertEquals(dense.direction()[i], top8.direction()[i]);
            }
        }
        assertEquals(8, kept);
        assertEquals(Map.of("k", "8", "readout", "last token", "selection", "effect-to-noise ratio"), top8.parameters());
    }

    @Test
    void whitenedNeedsShrinkageWithFewSamples() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WhitenedSparseMeanDifference(hook, 1, 8, 0).fitVector(model, caa));
        assertEquals("pooled covariance + 0.0 I is not positive definite (8 samples in 64 dimensions, shrinkage 0.0): raise the shrinkage", e.getMessage());
        SteeringVector v = new WhitenedSparseMeanDifference(hook, 1, 8, 0.5).fitVector(model, caa);
        float[] pos = ActivationCache.record(model, caa.positive(), List.of(hook), Readout.last()).stacked(hook);
        float[] neg = ActivationCache.record(model, caa.negative(), List.of(hook), Readout.last()).stacked(hook);
        double[] expected = WhitenedSparseMeanDifference.select(pos, neg, 64, 0.5, 8);
        for (int i = 0; i < 64; i++) assertEquals((float) expected[i], v.direction()[i]);
    }

    /**
     * The edit against a reference made here from HF's recorded activations: mu- and mu+ are the
     * means of HF's negative and positive last-token rows, r their normalised difference. The fitted
     * reference point and direction must be those (a fit that swapped mu+ and mu-, or took mu+ as the
     * reference, fails), and every edited row must end with (y - mu-) . r = alpha.
     */
    @Test
    void affineEditSetsTheProjectionToAlpha() {
        JsonNode caaRows = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json").get("caa");
        HfConcept concept = HfConcept.of(caaRows.get("positive_last_token_acts"), caaRows.get("negative_last_token_acts"));
        double[] muMinus = concept.muMinus(), r = concept.unit();
        double gap = concept.gap();
        int d = r.length;
        for (var c : List.of(Map.entry(0.0, AffineConceptEditing.AlphaUnit.RAW), Map.entry(-1.5, AffineConceptEditing.AlphaUnit.RAW),
                Map.entry(3.0, AffineConceptEditing.AlphaUnit.RAW), Map.entry(1.0, AffineConceptEditing.AlphaUnit.GAP), Map.entry(0.5, AffineConceptEditing.AlphaUnit.GAP))) {
            double alpha = c.getValue() == AffineConceptEditing.AlphaUnit.GAP ? c.getKey() * gap : c.getKey();
            AffineConceptEditing.Edit edit = new AffineConceptEditing(hook, c.getKey(), Readout.last(), io.jsteer.steering.PositionRule.all(), c.getValue()).fit(model, caa);
            double[] ref = edit.concept().reference();
            float[] fitted = edit.concept().unit().direction();
            for (int i = 0; i < d; i++) {
                assertEquals(muMinus[i], ref[i], 1e-6 * Math.max(1, Math.abs(muMinus[i])), "reference point = HF's mu-, [" + i + "]");
                assertEquals(r[i], fitted[i], 1e-6, "direction = HF's (mu+ - mu-) / |mu+ - mu-|, [" + i + "]");
            }
            assertEquals(gap, edit.concept().gap(), 1e-5 * gap);
            State s = model.newState();
            List<float[]> before = recorder(s, hook);
            edit.attach(s);
            List<float[]> after = recorder(s, hook);
            model.forward(s, eval, false);
            for (int t = 0; t < eval.length; t++) {
                float[] x = before.getFirst(), y = after.getFirst();
                double proj = 0;
                for (int i = 0; i < d; i++) proj += (y[t * d + i] - muMinus[i]) * r[i];
                double scale = Math.max(1, norm(y, t * d, d));
                assertEquals(alpha, proj, 2e-6 * scale, c + ", position " + t);
                // the edit moves x along r only
                double moved = 0, along = 0;
                for (int i = 0; i < d; i++) along += (y[t * d + i] - x[t * d + i]) * r[i];
                for (int i = 0; i < d; i++) moved = Math.max(moved, Math.abs(y[t * d + i] - x[t * d + i] - along * r[i]));
                assertTrue(moved <= 2e-6 * scale, "orthogonal change " + moved);
            }
        }
    }

    @Test
    void ablationRemovesTheDirectionWhereApplied() {
        DirectionalAblation.Ablate at = new DirectionalAblation(hook, DirectionalAblation.Scope.AT_HOOK).fit(model, caa);
        float[] r = at.direction();
        State s = model.newState();
        at.attach(s);
        List<float[]> after = recorder(s, hook);
        model.forward(s, eval, false);
        double worst = 0;
        for (int t = 0; t < eval.length; t++) worst = Math.max(worst, Math.abs(dot(after.getFirst(), t * 64, r)) / Math.max(1, norm(after.getFirst(), t * 64, 64)));
        System.out.printf("ablation at %s: max |x.r| / |x| = %.3g%n", hook, worst);
        assertTrue(worst <= 1e-6, "projection left " + worst);
    }

    @Test
    void ablationEverywhereLeavesNoBlockOutputAlongTheDirection() {
        DirectionalAblation.Ablate everywhere = new DirectionalAblation(hook, DirectionalAblation.Scope.EVERY_LAYER).fit(model, caa);
        float[] r = everywhere.direction();
        State s = model.newState();
        everywhere.attach(s);
        int layers = model.config().numLayers(), d = 64;
        List<List<float[]>> outputs = new ArrayList<>();
        for (int l = 0; l < layers; l++) outputs.add(recorder(s, new HookName(l, HookPoint.RESID_POST)));
        model.forward(s, eval, false);
        model.forward(s, new int[] {5}, false);
        double worst = 0;
        for (List<float[]> calls : outputs) {
            for (float[] x : calls) for (int off = 0; off < x.length; off += d) worst = Math.max(worst, Math.abs(dot(x, off, r)) / Math.max(1, norm(x, off, d)));
        }
        System.out.printf("ablation at every layer: max |resid_post . r| / |x| = %.3g%n", worst);
        assertTrue(worst <= 1e-6, "projection left " + worst);
    }
}
