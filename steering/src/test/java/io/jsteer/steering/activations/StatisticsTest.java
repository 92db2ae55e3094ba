/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jsteer.steering.vector.TopK;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.commons.math3.stat.StatUtils;
import org.junit.jupiter.api.Test;

/** Readouts, running moments and top-k selection. */
class StatisticsTest {
    @Test
    void readoutPositions() {
        assertArrayEquals(new int[] {4}, Readout.last().positions(5));
        assertArrayEquals(new int[] {3}, Readout.at(-2).positions(5));
        assertArrayEquals(new int[] {0}, Readout.at(0).positions(1));
        assertArrayEquals(new int[] {0, 1, 2}, Readout.all().positions(3));
        assertEquals("last token", Readout.last().describe());
        assertEquals("token -2", Readout.at(-2).describe());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Readout.at(5).positions(5));
        assertEquals("readout token 5 does not exist in a prompt of 5 tokens", e.getMessage());
    }

    @Test
    void momentsMatchCommonsMathOnLargeOffsets() {
        Random rnd = new Random(12);
        int n = 50, d = 3;
        float[] rows = new float[n * d];
        // a large common offset: a naive sum of squares would lose the variance to rounding
        for (int i = 0; i < rows.length; i++) rows[i] = (float) (1e4 + (i % d) + rnd.nextGaussian() * 0.01);
        Moments m = new Moments(d);
        for (int r = 0; r < n; r += 10) m.addRows(Arrays.copyOfRange(rows, r * d, (r + 10) * d));
        assertEquals(n, m.count());
        for (int i = 0; i < d; i++) {
            int col = i;
            double[] x = IntStream.range(0, n).mapToDouble(r -> rows[r * d + col]).toArray();
            assertEquals(StatUtils.mean(x), m.mean()[i], 1e-9);
            assertEquals(StatUtils.variance(x), m.variance()[i], 1e-9 * StatUtils.variance(x));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Moments(2).addRows(new float[] {1, 2}).variance());
        assertEquals("unbiased variance needs at least 2 rows, got 1", e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new Moments(2).addRows(new float[3]));
        assertEquals("3 values are not whole rows of width 2", bad.getMessage());
    }

    @Test
    void topKOrderAndTies() {
        double[] score = {1, 5, Double.POSITIVE_INFINITY, 5, 0};
        double[] tie = {0, 1, 0, 2, 0};
        assertArrayEquals(new int[] {2, 3, 1}, TopK.indices(score, tie, 3));
        assertArrayEquals(new double[] {0, 7, 0, 0, 0}, TopK.keepOnly(new double[] {6, 7, 8, 9, 10}, new int[] {1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TopK.indices(score, tie, 0));
        assertEquals("k must be in [1, 5], got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TopK.indices(new double[] {Double.NaN}, new double[1], 1));
        assertEquals("score 0 is NaN", e.getMessage());
    }
}
