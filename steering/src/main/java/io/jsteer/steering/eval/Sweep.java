/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.batch.SequenceProgress;
import java.util.ArrayList;
import java.util.List;

/** Evaluates an intervention at every setting of a grid. */
public final class Sweep {
    private Sweep() {}

    /** Hears about each finished setting, e.g. to move a progress bar or save partial results. */
    @FunctionalInterface
    public interface Listener {
        /** Hears that {@code finished} of {@code total} settings are done, the last being {@code row}. */
        void done(int finished, int total, SweepRow row);
    }

    /**
     * Builds and evaluates the intervention of each setting of {@code grid}, in grid order. The
     * unsteered baseline is computed before the first setting.
     */
    public static SweepResult run(Evaluator evaluator, SweepGrid grid, InterventionFactory factory, Listener listener) {
        if (evaluator == null || grid == null || factory == null) throw new IllegalArgumentException("sweep needs an evaluator, a grid and an intervention factory");
        Listener l = listener == null ? (f, t, r) -> {} : listener;
        evaluator.baseline();
        List<SweepPoint> points = grid.points();
        List<Intervention> interventions = new ArrayList<>(points.size());
        for (SweepPoint p : points) {
            // fitting is not part of the sequences a sweep's progress counts (see SequenceProgress)
            Intervention intervention = ScopedValue.where(SequenceProgress.FINISHED, () -> {}).call(() -> factory.create(p));
            if (intervention == null) throw new IllegalStateException("intervention factory returned null for " + p);
            interventions.add(intervention);
        }
        List<SweepRow> rows = new ArrayList<>(points.size());
        evaluator.evaluateAll(interventions, (i, evaluation) -> {
            SweepRow row = new SweepRow(points.get(i), evaluation);
            rows.add(row);
            l.done(rows.size(), points.size(), row);
        });
        return new SweepResult(evaluator.target().name(), evaluator.spillover().stream().map(Measure::name).toList(), rows);
    }
}
