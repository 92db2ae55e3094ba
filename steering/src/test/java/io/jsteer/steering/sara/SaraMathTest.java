/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sara;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.PositionRule;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;

/** SARA's SVD components and factors against Commons Math's SVD with the same sign convention. */
class SaraMathTest {
    static float[] random(Random rnd, int n, int d) {
        float[] a = new float[n * d];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextGaussian() * (1 + i % 5));
        return a;
    }

    /** V_k S_k by Commons Math (singular values come sorted), each column's largest |entry| made positive. */
    static double[][] reference(float[] rows, int n, int d, int k) {
        double[][] m = new double[n][d];
        for (int r = 0; r < n; r++) for (int i = 0; i < d; i++) m[r][i] = rows[r * d + i];
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(m));
        RealMatrix v = svd.getV();
        double[] s = svd.getSingularValues();
        double[][] c = new double[d][k];
        for (int j = 0; j < k; j++) {
            double[] col = v.getColumn(j);
            int best = 0;
            for (int i = 1; i < d; i++) if (Math.abs(col[i]) > Math.abs(col[best])) best = i;
            double sign = col[best] < 0 ? -1 : 1;
            for (int i = 0; i < d; i++) c[i][j] = sign * s[j] * col[i];
        }
        return c;
    }

    @Test
    void componentsMatchCommonsMath() {
        Random rnd = new Random(1);
        for (int[] shape : new int[][] {{5, 12, 5}, {9, 6, 4}, {7, 7, 3}, {1, 8, 1}}) {
            int n = shape[0], d = shape[1], k = shape[2];
            float[] a = random(rnd, n, d);
            double[] c = SvdComponents.of(a, n, d, k);
            double[][] ref = reference(a, n, d, k);
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < k; j++) assertEquals(ref[i][j], c[i * k + j], 1e-9 * Math.max(1, Math.abs(ref[0][0])), "C[" + i + "][" + j + "] of " + n + "x" + d);
            }
            // the convention: every column's largest-magnitude entry is positive
            for (int j = 0; j < k; j++) {
                int best = 0;
                for (int i = 1; i < d; i++) if (Math.abs(c[i * k + j]) > Math.abs(c[best * k + j])) best = i;
                assertTrue(c[best * k + j] > 0);
            }
        }
    }

    @Test
    void oneRowComponentsAreTheRowItself() {
        float[] row = {3, -4, 0, 1};
        double[] c = SvdComponents.of(row, 1, 4, 1);
        // |row| * (row / |row|), sign fixed by the entry -4: the column is -row
        assertArrayEquals(new double[] {-3, 4, 0, -1}, c, 1e-12);
    }

    @Test
    void factorsMatchAReferenceComputation() {
        Random rnd = new Random(9);
        int d = 10;
        float[] attract = random(rnd, 6, d), repel = random(rnd, 4, d), steered = random(rnd, 5, d);
        double c = 0.7;
        Sara.Steer steer = new Sara.Steer(new HookName(0, HookPoint.RESID_PRE), attract, repel, d, c, PositionRule.all());
        double[] f = steer.factors(steered, 5);
        int k = 4;
        double[][] s = reference(steered, 5, d, k), a = reference(attract, 6, d, k), r = reference(repel, 4, d, k);
        for (int i = 0; i < d; i++) {
            double expected = 1 + c * (cos(s[i], a[i]) - cos(s[i], r[i]));
            assertEquals(expected, f[i], 1e-9, "factor of neuron " + i);
        }
    }

    static double cos(double[] x, double[] y) {
        double xy = 0, xx = 0, yy = 0;
        for (int j = 0; j < x.length; j++) {
            xy += x[j] * y[j];
            xx += x[j] * x[j];
            yy += y[j] * y[j];
        }
        return xy / Math.sqrt(xx * yy);
    }

    @Test
    void attractEqualToRepelGivesUnitFactors() {
        Random rnd = new Random(4);
        float[] same = random(rnd, 5, 8);
        Sara.Steer steer = new Sara.Steer(new HookName(0, HookPoint.RESID_PRE), same, same.clone(), 8, 3.0, PositionRule.all());
        for (double f : steer.factors(random(rnd, 7, 8), 7)) assertEquals(1.0, f, 0.0);
    }

    @Test
    void rejectsBadShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SvdComponents.of(new float[6], 2, 3, 3));
        assertEquals("k must be in [1, 2], got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SvdComponents.of(new float[5], 2, 3, 1));
        assertEquals("5 values are not a [2][3] matrix", e.getMessage());
    }
}
