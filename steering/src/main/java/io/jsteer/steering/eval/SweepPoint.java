/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import java.util.OptionalInt;

/**
 * One setting of a sweep: the layer steered, the coefficient, and, for sparse methods, the number
 * of features or dimensions kept ({@code k}, empty when the method has none).
 */
public record SweepPoint(int layer, double coefficient, OptionalInt k) {
    public SweepPoint {
        if (layer < 0) throw new IllegalArgumentException("sweep layer must be >= 0, got " + layer);
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("sweep coefficient must be finite, got " + coefficient);
        if (k == null) k = OptionalInt.empty();
        if (k.isPresent() && k.getAsInt() < 1) throw new IllegalArgumentException("sweep k must be >= 1, got " + k.getAsInt());
    }

    @Override
    public String toString() {
        return "layer " + layer + ", coefficient " + coefficient + (k.isPresent() ? ", k " + k.getAsInt() : "");
    }
}
