/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hooks;

/** Scores items one after another on a single state that carries the steering hooks. */
final class ItemRunner {
    private ItemRunner() {}

    /** Scores one item on a state freshly reset (hooks attached). */
    @FunctionalInterface
    interface ItemScore {
        double score(State state, int item);
    }

    /**
     * Runs {@code score} for items {@code 0..n-1}; a bad item fails with the measure's name and the
     * item index in the message.
     */
    static double[] run(String measure, Model model, Intervention steering, int n, ItemScore score) {
        State state = model.newState();
        Hooks.Handle handle = steering == null ? null : steering.attach(state);
        double[] out = new double[n];
        try {
            for (int i = 0; i < n; i++) {
                state.reset();
                try {
                    out[i] = score.score(state, i);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("measure '" + measure + "', item " + i + ": " + e.getMessage(), e);
                }
            }
        } finally {
            if (handle != null) handle.close();
        }
        return out;
    }
}
