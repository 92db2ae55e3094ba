/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;

/**
 * The settings a sweep visits: every combination of layer, coefficient and (when {@code ks} is not
 * empty) k, ordered layer-major, then k, then coefficient.
 */
public record SweepGrid(List<Integer> layers, List<Double> coefficients, List<Integer> ks) {
    public SweepGrid {
        layers = checked("layers", layers);
        coefficients = checked("coefficients", coefficients);
        ks = ks == null ? List.of() : List.copyOf(ks);
        if (layers.isEmpty()) throw new IllegalArgumentException("sweep needs at least one layer");
        if (coefficients.isEmpty()) throw new IllegalArgumentException("sweep needs at least one coefficient");
        checked("k values", ks);
    }

    /** A grid without k. */
    public static SweepGrid of(List<Integer> layers, List<Double> coefficients) {
        return new SweepGrid(layers, coefficients, List.of());
    }

    private static <T> List<T> checked(String what, List<T> values) {
        if (values == null) throw new IllegalArgumentException("sweep " + what + " list is null");
        List<T> copy = List.copyOf(values);
        if (new HashSet<>(copy).size() != copy.size()) throw new IllegalArgumentException("sweep " + what + " " + values + " contain duplicates");
        return copy;
    }

    /** Number of settings. */
    public int size() {
        return layers.size() * coefficients.size() * Math.max(1, ks.size());
    }

    /** All settings in sweep order. */
    public List<SweepPoint> points() {
        List<OptionalInt> kOptions = ks.isEmpty() ? List.of(OptionalInt.empty()) : ks.stream().map(OptionalInt::of).toList();
        List<SweepPoint> out = new ArrayList<>(size());
        for (int layer : layers) {
            for (OptionalInt k : kOptions) {
                for (double c : coefficients) out.add(new SweepPoint(layer, c, k));
            }
        }
        return out;
    }
}
