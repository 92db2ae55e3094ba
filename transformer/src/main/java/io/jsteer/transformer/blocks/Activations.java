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

    /** Applies {@code act} to {@code x[0..n)} in place. */
    public static void apply(Activation act, float[] x, int n) {
        apply(act, x, 0, n);
    }

    /** Applies {@code act} to {@code x[from..to)} in place; each value's result is the same whatever the range. */
    public static void apply(Activation act, float[] x, int from, int to) {
        switch (act) {
            case GELU_ERF -> Vectors.geluErf(x, from, to);
            case GELU_TANH -> Vectors.geluTanh(x, from, to);
        }
    }
}
