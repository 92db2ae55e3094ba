/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

class EffectTest {
    static final double[] UNSTEERED = {3.1, 2.9, 3.6, 4.0, 3.3, 2.7, 3.8, 3.0};
    static final double[] STEERED = {3.4, 3.0, 3.9, 4.6, 3.2, 3.1, 4.4, 3.3};

    @Test
    void pairedTestMatchesScipyAndCommonsMath() {
        Effect e = Effect.of("x", UNSTEERED, STEERED);
        // scipy.stats.ttest_rel(steered, unsteered): t = 3.750669822279167, p = 0.0071618657400846315
        assertEquals(0.0071618657400846315, e.pValue(), 1e-12);
        assertEquals(new TTest().pairedTTest(UNSTEERED, STEERED), e.pValue(), 1e-15);
        assertEquals(0.3125, e.mean(), 1e-12);
        assertEquals(0.11548317003715597, e.difference().low(), 1e-9);
        assertEquals(0.5095168299628441, e.difference().high(), 1e-9);
        assertEquals(Summary.of(UNSTEERED), e.unsteered());
        assertEquals(Summary.of(STEERED), e.steered());
    }

    @Test
    void tStatisticFromTheFormula() {
        // t = mean(d) / (sd(d) / sqrt(n)); the p-value is 2 * P(T_{n-1} > |t|)
        Effect e = Effect.of("x", UNSTEERED, STEERED);
        double t = e.difference().mean() / (e.difference().sd() / Math.sqrt(UNSTEERED.length));
        assertEquals(3.750669822279167, t, 1e-9);
        double p = 2 * (1 - new org.apache.commons.math3.distribution.TDistribution(UNSTEERED.length - 1).cumulativeProbability(t));
        assertEquals(p, e.pValue(), 1e-12);
    }

    @Test
    void constantDifferences() {
        double[] a = {1, 2, 3};
        assertEquals(1.0, Effect.of("x", a, a).pValue());
        assertEquals(0.0, Effect.of("x", a, new double[] {2, 3, 4}).pValue());
        assertTrue(Double.isNaN(Effect.of("x", new double[] {1}, new double[] {2}).pValue()));
    }

    @Test
    void perplexityRatioIsExpOfMeanNllDifference() {
        PerplexityChange p = new PerplexityChange(Effect.of("nll", UNSTEERED, STEERED));
        assertEquals(Math.exp(0.3125), p.ratio(), 1e-12);
        assertEquals(Math.exp(0.11548317003715597), p.low(), 1e-9);
        assertEquals(Math.exp(0.5095168299628441), p.high(), 1e-9);
        double meanU = 0;
        for (double v : UNSTEERED) meanU += v / UNSTEERED.length;
        assertEquals(Math.exp(meanU), p.unsteeredPerplexity(), 1e-12);
    }

    @Test
    void unpairedLengthsFail() {
        var e = assertThrows(IllegalArgumentException.class, () -> Effect.of("honesty", new double[] {1, 2}, new double[] {1}));
        assertEquals("measure 'honesty': 2 unsteered vs 1 steered scores; they must pair item for item", e.getMessage());
    }
}
