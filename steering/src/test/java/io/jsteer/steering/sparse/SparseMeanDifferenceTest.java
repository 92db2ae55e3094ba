/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.activations.Moments;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.stat.StatUtils;
import org.apache.commons.math3.stat.correlation.Covariance;
import org.junit.jupiter.api.Test;

/** The sparse selections against Commons Math computing the same statistics its own way. */
class SparseMeanDifferenceTest {
    /** {@code n} rows of width {@code d}: Gaussian noise of per-column scale around a per-column mean. */
    static float[] sample(Random rnd, int n, int d, double shift) {
        float[] x = new float[n * d];
        for (int r = 0; r < n; r++) for (int i = 0; i < d; i++) x[r * d + i] = (float) (shift * Math.sin(i) + (0.2 + i % 3) * rnd.nextGaussian());
        return x;
    }

    static double[] column(float[] rows, int d, int i) {
        return IntStream.range(0, rows.length / d).mapToDouble(r -> rows[r * d + i]).toArray();
    }

    @Test
    void effectToNoiseMatchesCommonsMath() {
        Random rnd = new Random(7);
        int d = 12;
        float[] pos = sample(rnd, 9, d, 1), neg = sample(rnd, 6, d, -0.5);
        // column 4: constant on both sides, equal; column 5: constant on both sides, shifted
        for (int r = 0; r < 9; r++) { pos[r * d + 4] = 2; pos[r * d + 5] = 3; }
        for (int r = 0; r < 6; r++) { neg[r * d + 4] = 2; neg[r * d + 5] = 1; }
        double[] enr = SparseMeanDifference.effectToNoise(new Moments(d).addRows(pos), new Moments(d).addRows(neg));
        for (int i = 0; i < d; i++) {
            double[] p = column(pos, d, i), q = column(neg, d, i);
            double effect = Math.abs(StatUtils.mean(p) - StatUtils.mean(q));
            double se = Math.sqrt(StatUtils.variance(p) / p.length + StatUtils.variance(q) / q.length);
            if (i == 4) assertEquals(0, enr[i]);
            else if (i == 5) assertEquals(Double.POSITIVE_INFINITY, enr[i]);
            else assertEquals(effect / se, enr[i], 1e-9 * effect / se, "ENR of column " + i);
        }
    }

    @Test
    void keepsTheTopKCoordinatesOfTheMeanDifference() {
        Random rnd = new Random(11);
        int d = 20, k = 5;
        float[] pos = sample(rnd, 8, d, 1), neg = sample(rnd, 8, d, 0);
        Moments mp = new Moments(d).addRows(pos), mn = new Moments(d).addRows(neg);
        double[] v = SparseMeanDifference.select(mp, mn, k);
        double[] enr = SparseMeanDifference.effectToNoise(mp, mn);
        Integer[] order = IntStream.range(0, d).boxed().sorted(Comparator.comparingDouble(i -> -enr[i])).toArray(Integer[]::new);
        for (int r = 0; r < d; r++) {
            int i = order[r];
            double diff = StatUtils.mean(column(pos, d, i)) - StatUtils.mean(column(neg, d, i));
            if (r < k) assertEquals(diff, v[i], 1e-12, "kept coordinate " + i);
            else assertEquals(0, v[i], "dropped coordinate " + i);
        }
        assertEquals(k, Arrays.stream(v).filter(x -> x != 0).count());

        double[] all = SparseMeanDifference.select(mp, mn, d);
        double[] caa = new double[d];
        for (int i = 0; i < d; i++) caa[i] = mp.mean()[i] - mn.mean()[i];
        assertArrayEquals(caa, all, "k = d keeps the whole mean difference");
    }

    @Test
    void needsTwoSamplesPerSide() {
        Moments one = new Moments(3).addRows(new float[] {1, 2, 3});
        Moments two = new Moments(3).addRows(new float[] {1, 2, 3, 4, 5, 6});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparseMeanDifference.effectToNoise(one, two));
        assertEquals("effect-to-noise ratio needs at least 2 positive samples for unbiased variances; got 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparseMeanDifference.select(two, two, 4));
        assertEquals("k must be in [1, 3], got 4", e.getMessage());
    }

    /** (Sigma_pooled + lambda I)^-1 d by Commons Math: its covariance, an LU inverse. */
    static double[] reference(float[] pos, float[] neg, int d, double shrinkage) {
        RealMatrix p = matrix(pos, d), q = matrix(neg, d);
        int np = p.getRowDimension(), nq = q.getRowDimension();
        RealMatrix pooled = new Covariance(p).getCovarianceMatrix().scalarMultiply(np - 1)
                .add(new Covariance(q).getCovarianceMatrix().scalarMultiply(nq - 1)).scalarMultiply(1.0 / (np + nq - 2));
        double lambda = shrinkage * pooled.getTrace() / d;
        RealMatrix reg = pooled.add(MatrixUtils.createRealIdentityMatrix(d).scalarMultiply(lambda));
        double[] diff = new double[d];
        for (int i = 0; i < d; i++) diff[i] = StatUtils.mean(p.getColumn(i)) - StatUtils.mean(q.getColumn(i));
        return new LUDecomposition(reg).getSolver().getInverse().operate(new ArrayRealVector(diff)).toArray();
    }

    static RealMatrix matrix(float[] rows, int d) {
        double[][] m = new double[rows.length / d][d];
        for (int r = 0; r < m.length; r++) for (int i = 0; i < d; i++) m[r][i] = rows[r * d + i];
        return new Array2DRowRealMatrix(m);
    }

    @Test
    void whitenedDirectionMatchesCommonsMath() {
        Random rnd = new Random(3);
        int d = 10;
        for (double shrinkage : new double[] {0, 0.1, 2}) {
            float[] pos = sample(rnd, 14, d, 1), neg = sample(rnd, 11, d, -1);
            double[] w = WhitenedSparseMeanDifference.whitened(pos, neg, d, shrinkage);
            double[] ref = reference(pos, neg, d, shrinkage);
            double scale = Arrays.stream(ref).map(Math::abs).max().orElseThrow();
            for (int i = 0; i < d; i++) assertEquals(ref[i], w[i], 1e-9 * scale, "shrinkage " + shrinkage + ", coordinate " + i);
        }
        // fewer samples than dimensions: only the shrinkage makes the system solvable
        float[] pos = sample(rnd, 3, d, 1), neg = sample(rnd, 3, d, -1);
        double[] w = WhitenedSparseMeanDifference.whitened(pos, neg, d, 0.5);
        double[] ref = reference(pos, neg, d, 0.5);
        for (int i = 0; i < d; i++) assertEquals(ref[i], w[i], 1e-8 * Math.abs(ref[i]) + 1e-10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WhitenedSparseMeanDifference.whitened(pos, neg, d, 0));
        assertEquals("pooled covariance + 0.0 I is not positive definite (6 samples in 10 dimensions, shrinkage 0.0): raise the shrinkage", e.getMessage());
    }

    @Test
    void whitenedSelectionKeepsLargestMagnitudes() {
        Random rnd = new Random(5);
        int d = 10, k = 3;
        float[] pos = sample(rnd, 20, d, 1), neg = sample(rnd, 20, d, 0);
        double[] w = WhitenedSparseMeanDifference.whitened(pos, neg, d, 0.1);
        double[] v = WhitenedSparseMeanDifference.select(pos, neg, d, 0.1, k);
        double kth = Arrays.stream(w).map(Math::abs).boxed().sorted(Comparator.reverseOrder()).skip(k - 1).findFirst().orElseThrow();
        for (int i = 0; i < d; i++) {
            if (Math.abs(w[i]) >= kth) assertEquals(w[i], v[i], 0.0);
            else assertEquals(0, v[i]);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WhitenedSparseMeanDifference.whitened(new float[] {1, 2}, new float[] {3, 4}, 2, 1));
        assertEquals("pooled covariance needs more than 2 samples in all; got 1 positive and 1 negative", e.getMessage());
        assertTrue(Arrays.stream(v).filter(x -> x != 0).count() == k);
    }
}
