/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;

/**
 * A per-item score over a fixed list of held-out items (prompts or texts). Running it once
 * without and once with steering gives paired scores, compared by {@link Effect#of}.
 */
public interface Measure {
    /** Short name for tables and files, e.g. {@code honesty} or {@code nll}. */
    String name();

    /** Number of held-out items, the length of {@link #scores}. */
    int size();

    /**
     * One score per item, in item order, with {@code steering} attached to every sequence run
     * ({@code null}: the unsteered model). Deterministic for a given model and steering.
     */
    double[] scores(Model model, Intervention steering);
}
