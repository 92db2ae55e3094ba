/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * All rows of a sweep, with the names of the measures they report.
 *
 * @param target    name of the on-target measure
 * @param spillover names of the spillover measures, in the order of each row's spillover list
 */
public record SweepResult(String target, List<String> spillover, List<SweepRow> rows) {
    public SweepResult {
        spillover = List.copyOf(spillover);
        rows = List.copyOf(rows);
        for (SweepRow r : rows) {
            Evaluation e = r.evaluation();
            if (!e.onTarget().measure().equals(target)) throw new IllegalArgumentException("row " + r.point() + " measures '" + e.onTarget().measure() + "', not the sweep target '" + target + "'");
            List<String> names = e.spillover().stream().map(Effect::measure).toList();
            if (!names.equals(spillover)) throw new IllegalArgumentException("row " + r.point() + " has spillover " + names + ", expected " + spillover);
        }
    }

    /**
     * The setting with the largest mean on-target effect among those whose perplexity ratio is at
     * most {@code maxPerplexityRatio}; empty when none qualifies.
     */
    public Optional<SweepRow> best(double maxPerplexityRatio) {
        return rows.stream()
                .filter(r -> r.evaluation().perplexity().ratio() <= maxPerplexityRatio)
                .max(Comparator.comparingDouble(r -> r.evaluation().onTarget().mean()));
    }

    /** Whether any row has a k. */
    public boolean hasK() {
        return rows.stream().anyMatch(r -> r.point().k().isPresent());
    }
}
