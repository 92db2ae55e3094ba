/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import java.io.Serial;
import java.io.Serializable;

/**
 * Per-dimension mean and unbiased variance of rows added one at a time, each rounded once from
 * exact sums ({@link ExactSums}): they do not depend on the order of the rows, and moments merged
 * from partitions on a cluster ({@link #merge}) equal those of all rows added here, bit for bit.
 */
public final class Moments implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private final ExactSums sums;

    /** Empty moments of rows of {@code width} values. */
    public Moments(int width) {
        this.sums = new ExactSums(width);
    }

    /**
     * Adds every row of {@code rows} ({@code [n][width]} row-major).
     *
     * @throws IllegalArgumentException for values that are not whole rows, or a value that is not
     *     finite (naming its dimension); nothing of {@code rows} is added then
     */
    public Moments addRows(float[] rows) {
        sums.addRows(rows);
        return this;
    }

    /** Adds {@code other}'s rows to these; returns this. */
    public Moments merge(Moments other) {
        sums.merge(other.sums);
        return this;
    }

    /** Number of rows added. */
    public long count() {
        return sums.count();
    }

    /** Values per row. */
    public int width() {
        return sums.width();
    }

    /** Per-dimension mean ({@link ExactSums#mean()}); fails when nothing was added. */
    public double[] mean() {
        return sums.mean();
    }

    /** Per-dimension unbiased variance {@code sum (x - mean)^2 / (n - 1)} ({@link ExactSums#variance()}); needs at least two rows. */
    public double[] variance() {
        return sums.variance();
    }
}
