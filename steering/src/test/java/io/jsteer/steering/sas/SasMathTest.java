/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The SAS feature vector and steering edit against direct double-precision computations. */
class SasMathTest {
    static final HookName HOOK = new HookName(1, HookPoint.RESID_POST);

    static SparseAutoencoder randomSae(Random rnd, int dIn, int dSae, boolean jump) {
        float[] wEnc = new float[dIn * dSae], wDec = new float[dSae * dIn], bEnc = new float[dSae], bDec = new float[dIn], th = new float[dSae];
        for (int i = 0; i < wEnc.length; i++) wEnc[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < wDec.length; i++) wDec[i] = (float) rnd.nextGaussian() / 3;
        for (int i = 0; i < dSae; i++) { bEnc[i] = (float) (0.3 * rnd.nextGaussian()); th[i] = (float) Math.abs(0.5 * rnd.nextGaussian()); }
        for (int i = 0; i < dIn; i++) bDec[i] = (float) (0.1 * rnd.nextGaussian());
        return new SparseAutoencoder("random", jump ? SparseAutoencoder.Activation.JUMPRELU : SparseAutoencoder.Activation.RELU,
                dIn, dSae, wEnc, bEnc, wDec, bDec, jump ? th : null, !jump, "blocks.1.hook_resid_post");
    }

    static FeatureStats stats(double[][] rows) {
        FeatureStats s = new FeatureStats(rows[0].length);
        for (double[] r : rows) s.add(r);
        return s;
    }

    @Test
    void featureVectorFollowsThePaperSteps() {
        // features: 0 only positive, 1 only negative, 2 shared, 3 rare on the positive side, 4 never active
        double[][] pos = {{1, 0, 2, 0, 0}, {3, 0, 4, 0, 0}, {2, 0, 1, 0, 0}, {2, 0, 1, 9, 0}};
        double[][] neg = {{0, 5, 1, 0, 0}, {0, 1, 1, 0, 0}, {0, 3, 2, 0, 0}, {0, 3, 0, 0, 0}};
        FeatureStats p = stats(pos), n = stats(neg);
        assertArrayEquals(new double[] {2, -3, 0, 2.25, 0}, Sas.featureVector(p, n, new Sas.Options(0, true, 0, true)));
        assertArrayEquals(new double[] {2, -3, 0, 0, 0}, Sas.featureVector(p, n, new Sas.Options(0.5, true, 0, true)));
        assertArrayEquals(new double[] {2, -3, 1, 2.25, 0}, Sas.featureVector(p, n, new Sas.Options(0, false, 0, true)));
        assertArrayEquals(new double[] {0, -3, 0, 2.25, 0}, Sas.featureVector(p, n, new Sas.Options(0, true, 2, true)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sas.featureVector(p, p, Sas.Options.defaults()));
        assertEquals("no SAE feature separates the two sides (tau 0.0, removeShared true)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Sas.Options(1.5, true, 0, true));
        assertEquals("tau must be in [0, 1], got 1.5", e.getMessage());
    }

    static Sas.Fitted fitted(SparseAutoencoder sae, double[] delta, double lambda, boolean clamp) {
        return new Sas.Fitted(sae, HOOK, delta, lambda, clamp, PositionRule.all(), "test", Readout.last());
    }

    static double[] sparseDelta(Random rnd, int dSae) {
        double[] delta = new double[dSae];
        for (int j = 0; j < dSae; j += 3) delta[j] = rnd.nextGaussian();
        return delta;
    }

    @Test
    void zeroCoefficientIsTheIdentity() {
        Random rnd = new Random(2);
        for (boolean jump : new boolean[] {true, false}) {
            SparseAutoencoder sae = randomSae(rnd, 8, 20, jump);
            Sas.Fitted steer = fitted(sae, sparseDelta(rnd, 20), 0, true);
            float[] x = new float[3 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] y = x.clone();
            for (int t = 0; t < 3; t++) steer.steerRow(y, t * 8);
            assertArrayEquals(x, y);
        }
    }

    @Test
    void unclampedEditIsTheDecodedVector() {
        Random rnd = new Random(3);
        SparseAutoencoder sae = randomSae(rnd, 8, 20, true);
        double[] delta = sparseDelta(rnd, 20);
        double lambda = 1.7;
        Sas.Fitted steer = fitted(sae, delta, lambda, false);
        float[] v = steer.decodedDirection().direction();
        float[] x = new float[8];
        for (int i = 0; i < 8; i++) x[i] = (float) rnd.nextGaussian();
        float[] y = x.clone();
        steer.steerRow(y, 0);
        for (int i = 0; i < 8; i++) {
            double expected = x[i];
            for (int j = 0; j < 20; j++) expected += lambda * delta[j] * wDec(sae, j, i);
            assertEquals(expected, y[i], 1e-5, "coordinate " + i);
            assertEquals(x[i] + lambda * v[i], y[i], 1e-5);
        }
    }

    static double wDec(SparseAutoencoder sae, int j, int i) {
        double[] f = new double[sae.dSae()];
        f[j] = 1;
        double[] zero = sae.decode(new double[sae.dSae()]);
        return sae.decode(f)[i] - zero[i];
    }

    @Test
    void clampedEditEqualsDecodeWithErrorTerm() {
        Random rnd = new Random(4);
        for (boolean jump : new boolean[] {true, false}) {
            SparseAutoencoder sae = randomSae(rnd, 8, 20, jump);
            double[] delta = sparseDelta(rnd, 20);
            double lambda = -2.5;
            Sas.Fitted steer = fitted(sae, delta, lambda, true);
            int clamped = 0;
            for (int trial = 0; trial < 20; trial++) {
                float[] x = new float[8];
                for (int i = 0; i < 8; i++) x[i] = (float) (2 * rnd.nextGaussian());
                double[] f = sae.encode(x, 0);
                double[] g = new double[20];
                for (int j = 0; j < 20; j++) {
                    g[j] = Math.max(0, f[j] + lambda * delta[j]);
                    if (f[j] + lambda * delta[j] < 0) clamped++;
                }
                double[] xhat = sae.decode(f), xhat2 = sae.decode(g);
                float[] y = x.clone();
                steer.steerRow(y, 0);
                for (int i = 0; i < 8; i++) assertEquals(xhat2[i] + (x[i] - xhat[i]), y[i], 1e-5, "trial " + trial + " coordinate " + i);
            }
            assertTrue(clamped > 0, "some features must have been clamped for the test to mean anything");
        }
    }
}
