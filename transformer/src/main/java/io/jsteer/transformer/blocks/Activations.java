/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.blocks;

import io.jsteer.transformer.kernels.Vectors;
import io.jsteer.weights.Activation;

/** Element-wise non-linearities of the MLP, vectorised in {@link Vectors}. */
public final class Activations {
    private Activations() {}

    /** {@code x sigmoid(x) = x / (1 + e^-x)}, each value rounded once from double. */
    private static void silu(float[] x, int from, int to) {
        for (int i = from; i < to; i++) x[i] = (float) (x[i] / (1 + Math.exp(-x[i])));
    }

    /** Applies {@code act} to {@code x[0..n)} in place. */
    public static void apply(Activation act, float[] x, int n) {
        apply(act, x, 0, n);
    }

    /** Applies {@code act} to {@code x[from..to)} in place; each value's result is the same whatever the range. */
    public static void apply(Activation act, float[] x, int from, int to) {
        switch (act) {
            case GELU_ERF -> Vectors.geluErf(x, from, to);
            case GELU_TANH -> Vectors.geluTanh(x, from, to);
            case SILU -> silu(x, from, to);
        }
    }
}
