/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.pca.Pca;
import io.jsteer.steering.probe.LogisticRegression;
import io.jsteer.steering.probe.Probe;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * pca and probe on the Pythia fixture, from the last-token activations Hugging Face recorded
 * ({@code steering.json}): the methods run the model themselves, the references start from HF's
 * rows and the array-level math that the numpy fixtures check ({@code PcaTest},
 * {@code LogisticRegressionTest} in the steering module). Also the per-prompt {@code mean} readout.
 */
class ExtractionMethodsTest {
    static Model model;
    static ContrastSet caa;
    static HookName hook;
    static double[][] hfPositive, hfNegative;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        JsonNode ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        hook = new HookName(ref.get("layer").asInt(), HookPoint.RESID_POST);
        caa = new ContrastSet(Fixtures.intLists(ref.get("caa").get("positive_ids")), Fixtures.intLists(ref.get("caa").get("negative_ids")));
        hfPositive = rows(ref.get("caa").get("positive_last_token_acts"));
        hfNegative = rows(ref.get("caa").get("negative_last_token_acts"));
    }

    static double[][] rows(JsonNode n) {
        double[][] out = new double[n.size()][];
        for (int i = 0; i < out.length; i++) {
            float[] f = Fixtures.floats(n.get(i));
            out[i] = new double[f.length];
            for (int j = 0; j < f.length; j++) out[i][j] = f[j];
        }
        return out;
    }

    static double maxDiff(float[] actual, double[] expected) {
        double m = 0;
        for (int i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
        return m;
    }

    @Test
    void pcaMatchesRepengOnHuggingFaceActivations() {
        for (Pca.Variant variant : Pca.Variant.values()) {
            SteeringVector v = new Pca(hook, 1, variant).fitVector(model, caa);
            Pca.Direction want = Pca.direction(hfPositive, hfNegative, variant);
            double err = maxDiff(v.direction(), want.unit());
            System.out.printf("pca %s vs HF rows: max abs err %.3g (unit vector), vote %s%n", variant, err, v.parameters().get("sign_vote"));
            assertTrue(err <= 1e-6, variant + ": " + err);
            assertEquals(1, v.norm(), 1e-6);
            assertEquals(want.higher() + " pairs higher, " + want.lower() + " lower", v.parameters().get("sign_vote"));
        }
    }

    @Test
    void probeMatchesLogisticRegressionOnHuggingFaceActivations() {
        Probe.Result all = new Probe(hook, 1, 1, 0, 0, Readout.last(), PositionRule.all()).fitProbe(model, caa);
        double[] want = LogisticRegression.fit(stack(hfPositive, hfNegative, -1), labels(4, -1), 1).unitDirection();
        double err = maxDiff(all.vector().direction(), want);
        System.out.printf("probe vs HF rows: max abs err %.3g (unit vector)%n", err);
        assertTrue(err <= 1e-6, "probe: " + err);
        assertTrue(all.heldOutAccuracy().isEmpty());
        assertEquals(null, all.vector().parameters().get("heldout_accuracy"));

        // a quarter held out: one pair, both its prompts; exactly one choice of pair gives the fitted direction
        Probe.Result split = new Probe(hook, 1, 1, 0.25, 0, Readout.last(), PositionRule.all()).fitProbe(model, caa);
        int matches = 0;
        for (int out = 0; out < 4; out++) {
            LogisticRegression.Fit fit = LogisticRegression.fit(stack(hfPositive, hfNegative, out), labels(4, out), 1);
            if (maxDiff(split.vector().direction(), fit.unitDirection()) <= 1e-6) {
                matches++;
                double heldOut = fit.accuracy(new double[][] {hfPositive[out], hfNegative[out]}, new boolean[] {true, false});
                assertEquals(heldOut, split.heldOutAccuracy().getAsDouble());
                assertEquals(String.format(java.util.Locale.ROOT, "%.4f", heldOut), split.vector().parameters().get("heldout_accuracy"));
            }
        }
        assertEquals(1, matches, "the held-out prompts are one pair");
        assertEquals(1.0, split.trainAccuracy());
    }

    /** {@code readout=mean} is the mean of per-prompt means; {@code all} pools the token rows, so longer prompts weigh more. */
    @Test
    void meanReadoutWeighsPromptsEquallyAllPoolsTokens() {
        int d = model.config().hiddenSize();
        double[] perPrompt = new double[d], pooled = new double[d];
        for (int side = 0; side < 2; side++) {
            List<int[]> prompts = side == 0 ? caa.positive() : caa.negative();
            Activations a = ActivationCache.record(model, prompts, List.of(hook), Readout.all());
            double sign = side == 0 ? 1 : -1;
            double[] sideMeans = new double[d], sideRows = new double[d];
            int rowCount = 0;
            for (int p = 0; p < prompts.size(); p++) {
                float[] r = a.rows(hook, p);
                int n = r.length / d;
                for (int i = 0; i < d; i++) {
                    double s = 0;
                    for (int t = 0; t < n; t++) s += r[t * d + i];
                    sideRows[i] += s;
                    sideMeans[i] += (double) (float) (s / n) / prompts.size();
                }
                rowCount += n;
            }
            for (int i = 0; i < d; i++) {
                perPrompt[i] += sign * sideMeans[i];
                pooled[i] += sign * sideRows[i] / rowCount;
            }
        }
        float[] mean = new Caa(hook, 1, Readout.mean(), PositionRule.all()).fitVector(model, caa).direction();
        float[] all = new Caa(hook, 1, Readout.all(), PositionRule.all()).fitVector(model, caa).direction();
        double errMean = maxDiff(mean, perPrompt), errAll = maxDiff(all, pooled), apart = maxDiff(mean, pooled);
        System.out.printf("readout mean: max abs err %.3g; all: %.3g; mean vs pooled %.3g%n", errMean, errAll, apart);
        assertTrue(errMean <= 1e-6 && errAll <= 1e-6);
        assertTrue(apart > 1e-3, "prompts of 4..8 tokens: the two weightings differ");
    }

    /** The rows of both sides stacked (positives first), leaving out pair {@code skip} (-1: none). */
    static double[][] stack(double[][] p, double[][] n, int skip) {
        List<double[]> rows = new ArrayList<>();
        for (int i = 0; i < p.length; i++) if (i != skip) rows.add(p[i]);
        for (int i = 0; i < n.length; i++) if (i != skip) rows.add(n[i]);
        return rows.toArray(double[][]::new);
    }

    static boolean[] labels(int pairs, int skip) {
        int kept = skip < 0 ? pairs : pairs - 1;
        boolean[] l = new boolean[2 * kept];
        for (int i = 0; i < kept; i++) l[i] = true;
        return l;
    }
}
