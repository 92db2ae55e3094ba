/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Evaluates interventions on one model against fixed held-out data: an on-target measure, held-out
 * texts for perplexity, and spillover measures for behaviours that should stay put. Unsteered
 * scores are computed once, on first use, and reused for every intervention (steering is the only
 * thing that changes between runs, and a run is deterministic). Not thread-safe.
 */
public final class Evaluator {
    private final Model model;
    private final Measure target;
    private final TextNll perplexity;
    private final List<Measure> spillover;
    private Baseline baseline;

    /** The unsteered scores of every measure. */
    public record Baseline(double[] target, double[] nll, List<double[]> spillover) {}

    public Evaluator(Model model, Measure target, TextNll perplexity, List<Measure> spillover) {
        if (model == null) throw new IllegalArgumentException("evaluator needs a model");
        if (target == null) throw new IllegalArgumentException("evaluator needs an on-target measure");
        if (perplexity == null) throw new IllegalArgumentException("evaluator needs held-out texts for perplexity");
        Set<String> names = new HashSet<>(List.of(perplexity.name()));
        for (Measure m : concat(target, spillover)) {
            if (!names.add(m.name())) throw new IllegalArgumentException("measure name '" + m.name() + "' is used twice; names label columns and must differ");
        }
        this.model = model;
        this.target = target;
        this.perplexity = perplexity;
        this.spillover = List.copyOf(spillover);
    }

    private static List<Measure> concat(Measure first, List<Measure> rest) {
        List<Measure> all = new ArrayList<>(rest);
        all.addFirst(first);
        return all;
    }

    public Measure target() {
        return target;
    }

    public List<Measure> spillover() {
        return spillover;
    }

    /** The unsteered scores, computed on the first call. */
    public Baseline baseline() {
        if (baseline == null) {
            List<double[]> spill = new ArrayList<>();
            for (Measure m : spillover) spill.add(m.scores(model, null));
            baseline = new Baseline(target.scores(model, null), perplexity.scores(model, null), List.copyOf(spill));
        }
        return baseline;
    }

    /** Runs every measure with {@code steering} attached and compares with the baseline. */
    public Evaluation evaluate(Intervention steering) {
        if (steering == null) throw new IllegalArgumentException("no intervention to evaluate");
        Baseline base = baseline();
        Effect on = Effect.of(target.name(), base.target(), target.scores(model, steering));
        PerplexityChange ppl = new PerplexityChange(Effect.of(perplexity.name(), base.nll(), perplexity.scores(model, steering)));
        List<Effect> spill = new ArrayList<>();
        for (int i = 0; i < spillover.size(); i++) {
            Measure m = spillover.get(i);
            spill.add(Effect.of(m.name(), base.spillover().get(i), m.scores(model, steering)));
        }
        return new Evaluation(steering.describe(), on, ppl, spill);
    }
}
