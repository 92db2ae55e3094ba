/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Keeps the {@code k} entries of a vector that score highest, zeroing the rest. */
public final class TopK {
    private TopK() {}

    /**
     * Indices of the {@code k} largest {@code score}s, in decreasing score; ties go to the larger
     * {@code tieBreak}, then to the lower index, so the selection is deterministic. NaN scores are
     * refused. {@code k} must be in {@code [1, score.length]}.
     */
    public static int[] indices(double[] score, double[] tieBreak, int k) {
        if (k < 1 || k > score.length) throw new IllegalArgumentException("k must be in [1, " + score.length + "], got " + k);
        for (int i = 0; i < score.length; i++) if (Double.isNaN(score[i])) throw new IllegalArgumentException("score " + i + " is NaN");
        Comparator<Integer> order = Comparator.<Integer>comparingDouble(i -> -score[i])
                .thenComparingDouble(i -> -tieBreak[i])
                .thenComparingInt(i -> i);
        return IntStream.range(0, score.length).boxed().sorted(order).limit(k).mapToInt(Integer::intValue).toArray();
    }

    /** {@code values} with every entry outside {@code keep} set to zero. */
    public static double[] keepOnly(double[] values, int[] keep) {
        double[] out = new double[values.length];
        for (int i : keep) out[i] = values[i];
        return out;
    }

    /** {@code |values|}, for selection by magnitude. */
    public static double[] abs(double[] values) {
        return Arrays.stream(values).map(Math::abs).toArray();
    }

    /** Rounds to float32. */
    public static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }
}
