/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ExactSums} against means and variances in {@link BigDecimal}, and the same bits however the rows are split, merged or ordered. */
class ExactSumsTest {
    static final int WIDTH = 7;

    /** Rows over the whole float range: normal values of every scale, subnormals, zeros of both signs, the extremes. */
    static float[] rows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * WIDTH];
        for (int j = 0; j < x.length; j++) {
            x[j] = switch (j % WIDTH) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-140, 120)));
                case 2 -> Float.intBitsToFloat(r.nextInt(1, 0x800000)) * (r.nextBoolean() ? 1 : -1);
                case 3 -> r.nextBoolean() ? 0f : -0f;
                case 4 -> r.nextBoolean() ? Float.MAX_VALUE : -Float.MAX_VALUE / 3;
                case 5 -> 1e8f + (float) r.nextGaussian();
                default -> (float) (r.nextDouble() * 1e-3 - 5e-4);
            };
        }
        return x;
    }

    /** The mean of each column, summed and divided in BigDecimal (every float is a finite decimal), rounded once to double. */
    static double[] reference(float[] rows) {
        int n = rows.length / WIDTH;
        double[] out = new double[WIDTH];
        for (int i = 0; i < WIDTH; i++) {
            BigDecimal sum = BigDecimal.ZERO;
            for (int k = 0; k < n; k++) sum = sum.add(new BigDecimal(rows[k * WIDTH + i]));
            out[i] = sum.divide(BigDecimal.valueOf(n), new MathContext(80)).doubleValue();
        }
        return out;
    }

    @Test
    void theMeanIsTheExactMeanRoundedOnce() {
        float[] x = rows(500, 1);
        double[] mean = new ExactSums(WIDTH).addRows(x).mean();
        assertArrayEquals(reference(x), mean);
        // a column of Float.MAX_VALUE-sized values, whose float or double running sums would overflow or round
        assertEquals(reference(x)[4], mean[4]);
    }

    /** The unbiased variance of each column, {@code (n sum x^2 - (sum x)^2) / (n (n - 1))} in BigDecimal, rounded once to double. */
    static double[] referenceVariance(float[] rows) {
        int n = rows.length / WIDTH;
        double[] out = new double[WIDTH];
        for (int i = 0; i < WIDTH; i++) {
            BigDecimal sum = BigDecimal.ZERO, squares = BigDecimal.ZERO;
            for (int k = 0; k < n; k++) {
                BigDecimal x = new BigDecimal(rows[k * WIDTH + i]);
                sum = sum.add(x);
                squares = squares.add(x.multiply(x));
            }
            BigDecimal numerator = squares.multiply(BigDecimal.valueOf(n)).subtract(sum.multiply(sum));
            out[i] = numerator.divide(BigDecimal.valueOf((long) n * (n - 1)), new MathContext(80)).doubleValue();
        }
        return out;
    }

    @Test
    void theVarianceIsTheExactVarianceRoundedOnce() {
        float[] x = rows(400, 4);
        ExactSums s = new ExactSums(WIDTH).addRows(x);
        assertArrayEquals(referenceVariance(x), s.variance());
        // a constant column has variance 0 exactly, where a running update can leave a rounding residue
        float[] constant = new float[3 * WIDTH];
        java.util.Arrays.fill(constant, 0.1f);
        assertArrayEquals(new double[WIDTH], new ExactSums(WIDTH).addRows(constant).variance());
        assertEquals("unbiased variance needs at least 2 rows, got 1",
                assertThrows(IllegalStateException.class, () -> new ExactSums(WIDTH).addRows(new float[WIDTH]).variance()).getMessage());
    }

    @Test
    void splitsMergesAndOrdersGiveTheSameBits() {
        float[] x = rows(300, 2);
        double[] whole = new ExactSums(WIDTH).addRows(x).mean(), variance = new ExactSums(WIDTH).addRows(x).variance();
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 5; trial++) {
            // rows shuffled, then cut into a random number of parts merged in reverse order
            int n = x.length / WIDTH;
            int[] order = r.ints(0, Integer.MAX_VALUE).limit(n).toArray();
            Integer[] idx = new Integer[n];
            for (int k = 0; k < n; k++) idx[k] = k;
            Arrays.sort(idx, (a, b) -> Integer.compare(order[a], order[b]));
            float[] shuffled = new float[x.length];
            for (int k = 0; k < n; k++) System.arraycopy(x, idx[k] * WIDTH, shuffled, k * WIDTH, WIDTH);
            int parts = r.nextInt(1, 9);
            ExactSums total = new ExactSums(WIDTH);
            for (int p = parts - 1; p >= 0; p--) {
                int from = n * p / parts, to = n * (p + 1) / parts;
                total.merge(new ExactSums(WIDTH).addRows(Arrays.copyOfRange(shuffled, from * WIDTH, to * WIDTH)));
            }
            assertEquals(n, total.count());
            assertArrayEquals(whole, total.mean(), "trial " + trial + ", " + parts + " parts");
            assertArrayEquals(variance, total.variance(), "trial " + trial + ", " + parts + " parts");
            Moments moments = new Moments(WIDTH).addRows(shuffled);
            assertArrayEquals(whole, moments.mean(), "Moments' mean is the exact one");
            assertArrayEquals(variance, moments.variance(), "Moments' variance is the exact one");
        }
    }

    @Test
    void badInputIsRefusedAndAddsNothing() {
        ExactSums s = new ExactSums(2).addRows(new float[] {1, 2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.addRows(new float[] {3, 4, 5, Float.NaN}));
        assertEquals("activation NaN in dimension 1 is not finite", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.addRows(new float[] {Float.NEGATIVE_INFINITY, 0}));
        assertEquals("activation -Infinity in dimension 0 is not finite", e.getMessage());
        assertEquals(1, s.count());
        assertArrayEquals(new double[] {1, 2}, s.mean());
        e = assertThrows(IllegalArgumentException.class, () -> s.addRows(new float[3]));
        assertEquals("3 values are not whole rows of width 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.merge(new ExactSums(3)));
        assertEquals("cannot merge sums of width 3 into width 2", e.getMessage());
        assertEquals("mean of no rows", assertThrows(IllegalStateException.class, () -> new ExactSums(2).mean()).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ExactSums(0));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> new Moments(2).addRows(new float[] {Float.POSITIVE_INFINITY, 0}));
        assertEquals("activation Infinity in dimension 0 is not finite", m.getMessage());
    }
}
