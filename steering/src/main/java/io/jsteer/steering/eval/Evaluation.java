/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import java.util.List;

/**
 * What one intervention did: the on-target effect, the perplexity damage on held-out text, and
 * the effect on each non-target (spillover) measure.
 *
 * @param intervention the intervention's {@code describe()} line
 */
public record Evaluation(String intervention, Effect onTarget, PerplexityChange perplexity, List<Effect> spillover) {
    public Evaluation {
        spillover = List.copyOf(spillover);
    }
}
