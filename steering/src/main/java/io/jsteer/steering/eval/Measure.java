/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import java.util.List;

/**
 * A per-item score over a fixed list of held-out items (prompts or texts). Running it once
 * without and once with steering gives paired scores, compared by {@link Effect#of}.
 */
public sealed interface Measure permits LogitDifference, TextNll, WordScore {
    /** Short name for tables and files, e.g. {@code honesty} or {@code nll}. */
    String name();

    /** Number of held-out items, the length of {@link #scores}. */
    int size();

    /**
     * One score per item, in item order, with {@code steering} attached to every sequence run
     * ({@code null}: the unsteered model). Deterministic for a given model and steering, and the
     * same for every batch size.
     */
    default double[] scores(Model model, Intervention steering) {
        double[] scores = new double[size()];
        ItemJob.run(model, items(model, steering, scores));
        return scores;
    }

    /** The jobs that score each item, storing item {@code i}'s score in {@code scores[i]}. */
    List<? extends ItemJob> items(Model model, Intervention steering, double[] scores);
}
