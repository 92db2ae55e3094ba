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

    /** Evaluates on {@code model}: {@code target} on-target, {@code perplexity} on held-out text, and each of {@code spillover}. */
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

    /** The on-target measure. */
    public Measure target() {
        return target;
    }

    /** The measures that should not move. */
    public List<Measure> spillover() {
        return spillover;
    }

    /** Sequences one evaluation runs: one per item of every measure. */
    public int sequences() {
        return target.size() + perplexity.size() + spillover.stream().mapToInt(Measure::size).sum();
    }

    /** Whether the unsteered scores are still to be computed (by the next {@link #baseline} or evaluation). */
    public boolean baselinePending() {
        return baseline == null;
    }

    /** The unsteered scores, computed on the first call. */
    public Baseline baseline() {
        if (baseline == null) {
            Scores base = new Scores(null);
            ItemJob.run(model, base.items());
            baseline = new Baseline(base.target, base.nll, base.spillover);
        }
        return baseline;
    }

    /** Runs every measure with {@code steering} attached and compares with the baseline. */
    public Evaluation evaluate(Intervention steering) {
        return evaluateAll(List.of(steering), (i, e) -> {}).getFirst();
    }

    /** Hears about each evaluated intervention, in list order. */
    @FunctionalInterface
    public interface Listener {
        /** Hears the evaluation of intervention {@code index}. */
        void evaluated(int index, Evaluation evaluation);
    }

    /**
     * Evaluates each intervention as {@link #evaluate} does; the items of several interventions
     * run in one batch of sequences ({@link io.jsteer.transformer.batch.BatchSize}), so a sweep
     * keeps a full batch even where a setting has few prompts. Each result is the same as alone.
     * {@code listener} hears each result in list order as soon as it and those before it are done.
     */
    public List<Evaluation> evaluateAll(List<? extends Intervention> interventions, Listener listener) {
        for (Intervention i : interventions) {
            if (i == null) throw new IllegalArgumentException("no intervention to evaluate");
        }
        Baseline base = baseline();
        // a few settings at a time: enough items to fill a batch, few enough to report progress
        int perRun = Math.max(1, 64 / sequences());
        List<Evaluation> out = new ArrayList<>(interventions.size());
        for (int first = 0; first < interventions.size(); first += perRun) {
            List<Scores> run = new ArrayList<>();
            List<ItemJob> items = new ArrayList<>();
            for (Intervention steering : interventions.subList(first, Math.min(interventions.size(), first + perRun))) {
                Scores scores = new Scores(steering);
                run.add(scores);
                items.addAll(scores.items());
            }
            ItemJob.run(model, items);
            for (Scores scores : run) {
                Effect on = Effect.of(target.name(), base.target(), scores.target);
                PerplexityChange ppl = new PerplexityChange(Effect.of(perplexity.name(), base.nll(), scores.nll));
                List<Effect> spill = new ArrayList<>();
                for (int i = 0; i < spillover.size(); i++) spill.add(Effect.of(spillover.get(i).name(), base.spillover().get(i), scores.spillover.get(i)));
                Evaluation e = new Evaluation(scores.steering.describe(), on, ppl, spill);
                listener.evaluated(out.size(), e);
                out.add(e);
            }
        }
        return out;
    }

    /** Every measure's scores under one intervention (null: unsteered), filled by its items. */
    private final class Scores {
        final Intervention steering;
        final double[] target = new double[Evaluator.this.target.size()];
        final double[] nll = new double[perplexity.size()];
        final List<double[]> spillover = new ArrayList<>();

        Scores(Intervention steering) {
            this.steering = steering;
            for (Measure m : Evaluator.this.spillover) spillover.add(new double[m.size()]);
        }

        List<ItemJob> items() {
            List<ItemJob> items = new ArrayList<>();
            for (int i = 0; i < Evaluator.this.spillover.size(); i++) items.addAll(Evaluator.this.spillover.get(i).items(model, steering, spillover.get(i)));
            items.addAll(Evaluator.this.target.items(model, steering, target));
            items.addAll(perplexity.items(model, steering, nll));
            return items;
        }
    }
}
