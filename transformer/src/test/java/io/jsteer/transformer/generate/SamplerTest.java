/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
    /** Logits whose softmax at temperature 1 is exactly {@code probs}. */
    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < l.length; i++) l[i] = (float) Math.log(probs[i]);
        return l;
    }

    private static final float[] FOUR = logitsOf(0.15, 0.5, 0.05, 0.3);

    @Test
    void temperatureZeroIsArgmaxWithFirstIdOnTies() {
        Sampler greedy = Sampler.greedy();
        float[] random = new float[1000];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < random.length; i++) random[i] = (float) r.nextGaussian();
        int best = 0;
        for (int i = 1; i < random.length; i++) if (random[i] > random[best]) best = i;
        assertEquals(best, greedy.next(random));
        assertEquals(1, greedy.next(new float[] {0, 3, 3, 1}));
        assertEquals(1, new Sampler(0, 0, 1, 99).next(FOUR));
        assertArrayEquals(new double[] {0, 1, 0, 0}, greedy.distribution(FOUR, 0, 4));
    }

    @Test
    void temperatureScalesLogitsBeforeSoftmax() {
        double t = 0.7;
        double[] p = new Sampler(t, 0, 1, 0).distribution(FOUR, 0, 4);
        double z = 0;
        for (float l : FOUR) z += Math.exp(l / t);
        for (int i = 0; i < 4; i++) assertEquals(Math.exp(FOUR[i] / t) / z, p[i], 1e-12);
    }

    @Test
    void topPKeepsTheSmallestSetWithEnoughMass() {
        // sorted: 0.5 (id 1), 0.3 (id 3), 0.15 (id 0), 0.05 (id 2)
        assertArrayEquals(new double[] {0, 0.625, 0, 0.375}, new Sampler(1, 0, 0.75, 0).distribution(FOUR, 0, 4), 1e-6);
        assertArrayEquals(new double[] {0, 1, 0, 0}, new Sampler(1, 0, 0.4, 0).distribution(FOUR, 0, 4), 1e-6);
        assertArrayEquals(new double[] {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95}, new Sampler(1, 0, 0.9, 0).distribution(FOUR, 0, 4), 1e-6);
        assertArrayEquals(new double[] {0.15, 0.5, 0.05, 0.3}, new Sampler(1, 0, 1, 0).distribution(FOUR, 0, 4), 1e-6);
    }

    @Test
    void topKKeepsTheKMostLikelyThenTopPActsOnTheirRenormalisedMass() {
        assertArrayEquals(new double[] {0, 0.625, 0, 0.375}, new Sampler(1, 2, 1, 0).distribution(FOUR, 0, 4), 1e-6);
        // within the top 3 (0.5, 0.3, 0.15 of 0.95) the first two hold 0.842 >= 0.8
        assertArrayEquals(new double[] {0, 0.625, 0, 0.375}, new Sampler(1, 3, 0.8, 0).distribution(FOUR, 0, 4), 1e-6);
        assertArrayEquals(new double[] {0, 1, 0, 0}, new Sampler(5, 1, 1, 0).distribution(FOUR, 0, 4), 1e-6);
    }

    @Test
    void readsTheRowAtAnOffset() {
        float[] rows = new float[8];
        System.arraycopy(FOUR, 0, rows, 4, 4);
        assertEquals(1, Sampler.greedy().next(rows, 4, 4));
        assertArrayEquals(new Sampler(1, 0, 0.75, 0).distribution(FOUR, 0, 4), new Sampler(1, 0, 0.75, 0).distribution(rows, 4, 4), 0);
    }

    @Test
    void sameSeedSameTokensAndCopyRestartsTheStream() {
        Sampler a = new Sampler(1.3, 0, 0.95, 42), b = new Sampler(1.3, 0, 0.95, 42), c = new Sampler(1.3, 0, 0.95, 43);
        int[] ra = new int[200], rb = new int[200], rc = new int[200];
        Sampler fresh = a.copy();
        for (int i = 0; i < 200; i++) {
            ra[i] = a.next(FOUR);
            rb[i] = b.next(FOUR);
            rc[i] = c.next(FOUR);
        }
        int[] again = new int[200];
        for (int i = 0; i < 200; i++) again[i] = fresh.next(FOUR);
        assertArrayEquals(ra, rb);
        assertArrayEquals(ra, again);
        assertNotEquals(Arrays.toString(ra), Arrays.toString(rc));
    }

    @Test
    void drawsFollowTheFilteredDistribution() {
        Sampler s = new Sampler(1, 0, 0.9, 5);
        int n = 40_000;
        int[] counts = new int[4];
        for (int i = 0; i < n; i++) counts[s.next(FOUR)]++;
        double[] p = s.distribution(FOUR, 0, 4);
        assertEquals(0, counts[2], "token outside the nucleus was drawn");
        for (int i = 0; i < 4; i++) {
            double sd = Math.sqrt(n * p[i] * (1 - p[i]));
            assertTrue(Math.abs(counts[i] - n * p[i]) <= 4 * sd + 1e-9, "token " + i + ": " + counts[i] + " draws, expected " + n * p[i]);
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Double.NaN, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, -2, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.greedy().distribution(FOUR, 2, 4));
    }
}
