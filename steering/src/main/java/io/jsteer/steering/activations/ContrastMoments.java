/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import io.jsteer.steering.ContrastSet;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import java.io.Serializable;
import java.util.List;

/**
 * Per-dimension moments of the positive and the negative activations of a contrast set at one
 * hook point, accumulated while the prompts stream through the model (nothing is stored), and
 * mergeable with those of other prompts ({@link #merge}) to the same bits.
 */
public record ContrastMoments(Moments positive, Moments negative) implements Serializable {
    /** Runs both sides of {@code data} and accumulates the rows that {@code readout} selects at {@code hook}. */
    public static ContrastMoments of(Model model, ContrastSet data, HookName hook, Readout readout) {
        return new ContrastMoments(side(model, data.positive(), hook, readout), side(model, data.negative(), hook, readout));
    }

    private static Moments side(Model model, List<int[]> prompts, HookName hook, Readout readout) {
        Moments m = new Moments(model.config().hiddenSize());
        ActivationCache.stream(model, prompts, List.of(hook), readout, (prompt, point, positions, rows) -> m.addRows(rows));
        return m;
    }

    /** Adds {@code other}'s rows to these, side by side; returns this. */
    public ContrastMoments merge(ContrastMoments other) {
        positive.merge(other.positive);
        negative.merge(other.negative);
        return this;
    }

    /** {@code mean(positive) - mean(negative)} per dimension. */
    public double[] meanDifference() {
        double[] p = positive.mean(), n = negative.mean();
        for (int i = 0; i < p.length; i++) p[i] -= n[i];
        return p;
    }
}
