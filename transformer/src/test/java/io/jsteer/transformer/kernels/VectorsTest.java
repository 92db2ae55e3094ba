/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VectorsTest {
    @Test
    void dotAndAxpyMatchDoublePrecisionForEveryTailLength() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int n = 0; n <= 70; n++) {
            for (int off : new int[] {0, 3}) {
                float[] a = random(n + off, rnd), b = random(n + 2 * off, rnd), y = random(n + off, rnd);
                double dot = 0, abs = 0;
                for (int i = 0; i < n; i++) {
                    dot += (double) a[off + i] * b[2 * off + i];
                    abs += Math.abs((double) a[off + i] * b[2 * off + i]);
                }
                int len = n;
                assertEquals(dot, Vectors.dot(a, off, b, 2 * off, n), 1e-6 * abs + 1e-30, () -> "dot n=" + len);

                float alpha = (float) rnd.nextGaussian();
                double[] expected = new double[n];
                for (int i = 0; i < n; i++) expected[i] = y[off + i] + (double) alpha * a[off + i];
                float before = off > 0 ? y[off - 1] : 0;
                Vectors.axpy(alpha, a, off, y, off, n);
                for (int i = 0; i < n; i++) assertEquals(expected[i], y[off + i], 1e-6 * (Math.abs(expected[i]) + 1), "axpy n=" + n + " i=" + i);
                if (off > 0) assertEquals(before, y[off - 1], "axpy wrote before its range");
            }
        }
    }

    /** Exact GELU against double precision with a series erf, over [-12, 12] densely and the edges. */
    @Test
    void geluErfMatchesDoublePrecision() {
        float[] x = activationInputs();
        float[] y = x.clone();
        Vectors.geluErf(y, 0, y.length);
        for (int i = 0; i < x.length; i++) {
            double expected = 0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2)));
            // erf to 3.5e-7 absolute (the approximation evaluated in float32), then rounding of the product
            assertEquals(expected, y[i], 1.75e-7 * Math.abs(x[i]) + 3 * Math.ulp((float) expected) + 1e-37, "gelu(" + x[i] + ")");
        }
    }

    @Test
    void geluTanhMatchesDoublePrecision() {
        float[] x = activationInputs();
        float[] y = x.clone();
        Vectors.geluTanh(y, 0, y.length);
        for (int i = 0; i < x.length; i++) {
            // (1 + tanh z) / 2 = 1 / (1 + exp(-2z)), without the cancellation of 1 + tanh z for z << 0
            double v = x[i], t = -2 * Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v), expected = v / (1 + Math.exp(t));
            // exp to about 2e-7 relative, of an exponent t rounded to float32 (relative error up to 1.2e-7 |t|);
            // t stops at 88, so far below zero the result is x / exp(88) instead of 0
            assertEquals(expected, y[i], (1e-6 + 2e-7 * Math.min(Math.abs(t), 88)) * Math.abs(expected) + Math.ulp((float) expected) + 1e-38 * Math.abs(v), "gelu_tanh(" + v + ")");
        }
    }

    @Test
    void softcapMatchesDoublePrecision() {
        float[] x = activationInputs();
        for (int i = 0; i < x.length; i++) x[i] *= 5;
        for (float cap : new float[] {30f, 50f}) {
            float[] y = x.clone(), shifted = x.clone();
            Vectors.softcap(y, 0, y.length, cap);
            Vectors.softcap(shifted, 3, shifted.length - 5, cap);
            for (int i = 0; i < x.length; i++) {
                double expected = cap * Math.tanh((double) x[i] / cap);
                // about 4e-7 relative (see VectorKernel.TANH_SERIES), plus the rounding of x / cap (to zero for
                // subnormal x, as in float32 arithmetic) and of the product
                assertEquals(expected, y[i], 1e-6 * Math.abs(expected) + 2 * Math.ulp((float) expected) + 1e-37, "softcap(" + x[i] + ", " + cap + ")");
                // vector lanes and the scalar tail give the same bits
                float inRange = i < 3 || i >= x.length - 5 ? x[i] : y[i];
                assertEquals(Float.floatToRawIntBits(inRange), Float.floatToRawIntBits(shifted[i]), "softcap lanes and tail at " + i);
            }
        }
    }

    @Test
    void softmaxMatchesDoublePrecision() {
        SplittableRandom rnd = new SplittableRandom(4);
        for (int n : new int[] {1, 7, 8, 33, 300}) {
            float[] x = random(n + 4, rnd);
            for (int i = 0; i < x.length; i++) x[i] *= 30;
            float[] y = x.clone();
            Vectors.softmax(y, 2, 2 + n);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 2; i < 2 + n; i++) max = Math.max(max, x[i]);
            for (int i = 2; i < 2 + n; i++) sum += Math.exp(x[i] - max);
            for (int i = 0; i < x.length; i++) {
                double expected = i < 2 || i >= 2 + n ? x[i] : Math.exp(x[i] - max) / sum;
                // exp to about 2e-7 relative of x - max rounded to float32; exp(-87) stands in for anything smaller
                double rel = i < 2 || i >= 2 + n ? 0 : 1e-6 + 1.2e-7 * (max - x[i]);
                assertEquals(expected, y[i], rel * Math.abs(expected) + 1e-37, "softmax n=" + n + " at " + i);
            }
        }
    }

    /** Vector lanes and scalar tails give the same bits, so a value's result does not depend on the range it is in. */
    @Test
    void activationsDoNotDependOnTheRange() {
        float[] x = activationInputs();
        for (boolean tanh : new boolean[] {false, true}) {
            float[] whole = x.clone(), shifted = x.clone();
            apply(tanh, whole, 0, whole.length);
            apply(tanh, shifted, 3, shifted.length - 5);
            for (int i = 0; i < x.length; i++) {
                float expected = i < 3 || i >= x.length - 5 ? x[i] : whole[i];
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(shifted[i]), (tanh ? "tanh" : "erf") + " at " + i);
            }
        }
    }

    private static void apply(boolean tanh, float[] x, int from, int to) {
        if (tanh) Vectors.geluTanh(x, from, to);
        else Vectors.geluErf(x, from, to);
    }

    private static float[] activationInputs() {
        float[] edges = {0f, -0f, 1e-30f, -1e-30f, Float.MIN_VALUE, 3.99f * (float) Math.sqrt(2), 4.01f * (float) Math.sqrt(2), 50f, -50f, 1e6f, -1e6f};
        int n = 24001;
        float[] x = new float[n + edges.length];
        for (int i = 0; i < n; i++) x[i] = -12f + 24f * i / (n - 1);
        System.arraycopy(edges, 0, x, n, edges.length);
        return x;
    }

    /** erf in double to about 1e-15: Taylor series near zero, the continued fraction of erfc beyond. */
    private static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) return Math.copySign(1, x);
        if (ax < 2.5) {
            double term = ax, sum = ax;
            for (int n = 1; n < 80; n++) {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
            }
            return Math.copySign(sum * 2 / Math.sqrt(Math.PI), x);
        }
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
        return Math.copySign(1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f, x);
    }

    private static float[] random(int n, SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
