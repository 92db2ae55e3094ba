/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.SweepInterventions;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.Measure;
import io.jsteer.steering.eval.PerplexityChange;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.steering.vector.AddVector;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@code eval} and {@code sweep} as Spark jobs: every (setting, measure, run of items) is a unit
 * of work scored on an executor, the unsteered baseline being one more setting; the per-item
 * scores come back to the driver (a few numbers per item), which compares them with the same
 * code as the local path ({@link Effect#of}: Commons Math t intervals and paired t-tests). Each
 * item is scored alone, so the result is the local command's, whatever the split.
 */
public final class SparkEvaluation {
    private SparkEvaluation() {}

    /** One unit of work: items {@code [from, to)} of measure {@code measure} under setting {@code setting} (-1: unsteered). */
    record Unit(int setting, int measure, int from, int to) implements Serializable {}

    /** The scores of a unit. */
    record Scores(Unit unit, double[] values) implements Serializable {}

    /**
     * Evaluates one steering setting as the {@code eval} command does. {@code itemsPerTask} sets
     * how many items a task scores (0: the items spread over the cluster's default parallelism).
     */
    public static Evaluation eval(SparkSession spark, ModelSource model, EvalSpec spec, Steer steer, Options options, int itemsPerTask) {
        return evaluate(spark, model, spec, List.of(steer), options, itemsPerTask).getFirst();
    }

    /**
     * Fits the method of {@code methodSpec} at every setting of {@code grid} on the driver, as
     * the {@code sweep} command does (a vector method once per layer and k), and evaluates every
     * setting on the cluster; rows in grid order.
     */
    public static SweepResult sweep(SparkSession spark, ModelSource model, EvalSpec spec, SweepGrid grid, String methodSpec, ContrastSet data,
                                    Options options, int itemsPerTask) {
        LoadedModel m = ModelCache.get(model, 0);
        MethodSpec parsed = MethodSpec.parse(methodSpec);
        SweepInterventions factory = new SweepInterventions(parsed, m.model(), data);
        List<SweepPoint> points = grid.points();
        for (SweepPoint p : points) factory.method(p); // a bad spec or setting fails before any work
        List<Steer> steers = new ArrayList<>();
        for (SweepPoint p : points) {
            Intervention i = factory.create(p);
            steers.add(i instanceof AddVector v
                    ? Steer.vector(v.vector(), v.coefficient(), parsed.params().getOrDefault("positions", "all"))
                    : Steer.fitted(pointSpec(parsed, p).toString(), m, data, i));
        }
        List<Evaluation> evaluations = evaluate(spark, model, spec, steers, options, itemsPerTask);
        List<SweepRow> rows = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) rows.add(new SweepRow(points.get(i), evaluations.get(i)));
        return new SweepResult(spec.target().name(), spec.spillover().stream().map(EvalSpec.MeasureSpec::name).toList(), rows);
    }

    /** The spec of one setting, as {@link SweepInterventions#method} configures it. */
    private static MethodSpec pointSpec(MethodSpec spec, SweepPoint p) {
        MethodSpec s = spec.with("layer", Integer.toString(p.layer())).with("coeff", Double.toString(p.coefficient()));
        return p.k().isPresent() ? s.with("k", Integer.toString(p.k().getAsInt())) : s;
    }

    /** Scores every setting and the baseline on the cluster and compares each setting with the baseline, as {@code Evaluator.evaluate} does. */
    static List<Evaluation> evaluate(SparkSession spark, ModelSource model, EvalSpec spec, List<Steer> steers, Options options, int itemsPerTask) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<EvalSpec.MeasureSpec> measures = spec.measures();
        List<Unit> units = new ArrayList<>();
        for (int s = -1; s < steers.size(); s++) {
            for (int mi = 0; mi < measures.size(); mi++) {
                int n = measures.get(mi).size();
                int per = itemsPerTask > 0 ? itemsPerTask : Math.max(1, (n + sc.defaultParallelism() - 1) / sc.defaultParallelism());
                for (int a = 0; a < n; a += per) units.add(new Unit(s, mi, a, Math.min(n, a + per)));
            }
        }
        List<Scores> scored = sc.parallelize(units, Math.max(1, Math.min(units.size(), sc.defaultParallelism() * 4)))
                .mapPartitions(new ScoreUnits(model, spec, steers, options))
                .collect();
        double[][][] scores = new double[steers.size() + 1][measures.size()][];
        for (int s = 0; s <= steers.size(); s++) for (int mi = 0; mi < measures.size(); mi++) scores[s][mi] = new double[measures.get(mi).size()];
        for (Scores sc2 : scored) {
            Unit u = sc2.unit();
            System.arraycopy(sc2.values(), 0, scores[u.setting() + 1][u.measure()], u.from(), u.to() - u.from());
        }
        double[][] base = scores[0];
        List<Evaluation> out = new ArrayList<>();
        for (int s = 0; s < steers.size(); s++) {
            double[][] steered = scores[s + 1];
            Effect on = Effect.of(measures.get(0).name(), base[0], steered[0]);
            PerplexityChange ppl = new PerplexityChange(Effect.of(measures.get(1).name(), base[1], steered[1]));
            List<Effect> spill = new ArrayList<>();
            for (int mi = 2; mi < measures.size(); mi++) spill.add(Effect.of(measures.get(mi).name(), base[mi], steered[mi]));
            out.add(new Evaluation(steers.get(s).setting(), on, ppl, spill));
        }
        return out;
    }

    /** Scores the units of a partition on the executor's model. */
    private record ScoreUnits(ModelSource model, EvalSpec spec, List<Steer> steers, Options options)
            implements org.apache.spark.api.java.function.FlatMapFunction<java.util.Iterator<Unit>, Scores> {
        @Override
        public java.util.Iterator<Scores> call(java.util.Iterator<Unit> units) {
            LoadedModel m = ModelCache.get(model, options.threads());
            List<EvalSpec.MeasureSpec> measures = spec.measures();
            List<Scores> out = new ArrayList<>();
            while (units.hasNext()) {
                Unit u = units.next();
                Intervention steering = u.setting() < 0 ? null : steers.get(u.setting()).build(m);
                Measure measure = measures.get(u.measure()).slice(u.from(), u.to());
                out.add(new Scores(u, RowJob.batched(options, () -> measure.scores(m.model(), steering))));
            }
            return out.iterator();
        }
    }
}
