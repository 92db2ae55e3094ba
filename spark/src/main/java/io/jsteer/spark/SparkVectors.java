/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.PositionRules;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.ExactSums;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.TopK;
import io.jsteer.transformer.hooks.HookName;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Steering vectors fitted from contrast datasets too large for one machine: each partition runs
 * its prompts and reduces their activations to exact per-dimension sums ({@link ExactSums}); only
 * those sums travel, never the rows, and they merge to the same totals whatever the partitioning.
 */
public final class SparkVectors {
    private SparkVectors() {}

    /** Both sides' sums of one partition. */
    record Sides(long pairs, ExactSums positive, ExactSums negative) implements Serializable {
        Sides merge(Sides o) {
            return new Sides(pairs + o.pairs, positive.merge(o.positive), negative.merge(o.negative));
        }
    }

    /**
     * Contrastive Activation Addition (Rimsky et al. 2023; {@code io.jsteer.steering.caa.Caa}):
     * {@code mean(positive) - mean(negative)} of the activations at {@code hook} (e.g.
     * {@code blocks.2.hook_resid_post}) and the {@code readout} positions ({@code last}, {@code all}
     * or an index) of the pairs' prompts, text in columns {@code positive} and {@code negative}
     * (as {@code spark.read().json("contrast.jsonl")} reads the command line's contrast file).
     * Each mean is rounded once from its exact sum, as the local fit's ({@code Moments}) is, so the
     * vector is the local fit's bit for bit, whatever the partitioning.
     *
     * @param modelName what the vector's metadata names as its model, as {@code jsteer vector} does
     */
    public static SteeringVector caa(Dataset<Row> pairs, ModelSource model, String hook, String readout, String modelName, Options options) {
        HookName point = HookName.parse(hook);
        PositionRules.readout(readout); // a bad readout fails here, on the driver
        for (String c : List.of("positive", "negative")) {
            if (pairs.schema().getFieldIndex(c).isEmpty()) throw new IllegalArgumentException("the contrast dataset has no '" + c + "' column (columns: "
                    + String.join(", ", pairs.schema().fieldNames()) + ")");
        }
        Sides total = pairs.select("positive", "negative").javaRDD()
                .mapPartitions(new Reduce(model, hook, readout, options))
                .reduce(Sides::merge);
        if (total.pairs() == 0) throw new IllegalArgumentException("the contrast dataset has no pairs");
        double[] p = total.positive().mean(), n = total.negative().mean();
        for (int i = 0; i < p.length; i++) p[i] -= n[i];
        Map<String, String> params = Map.of("readout", PositionRules.readout(readout).describe(), "pairs", Long.toString(total.pairs()));
        return new SteeringVector(point, TopK.toFloat(p), "caa", params, modelName);
    }

    /** One partition's sums. */
    private record Reduce(ModelSource model, String hook, String readout, Options options) implements FlatMapFunction<Iterator<Row>, Sides> {
        @Override
        public Iterator<Sides> call(Iterator<Row> rows) {
            LoadedModel m = ModelCache.get(model, options.threads());
            int width = m.model().config().hiddenSize();
            List<int[]> pos = new ArrayList<>(), neg = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                if (r.isNullAt(0) || r.isNullAt(1)) throw new IllegalArgumentException("contrast pair " + r + " has a null side");
                pos.add(m.encode(r.getString(0)));
                neg.add(m.encode(r.getString(1)));
            }
            Sides s = new Sides(pos.size(), new ExactSums(width), new ExactSums(width));
            if (!pos.isEmpty()) {
                List<HookName> points = List.of(HookName.parse(hook));
                Readout ro = PositionRules.readout(readout);
                RowJob.batched(options, () -> {
                    ActivationCache.stream(m.model(), pos, points, ro, (i, p, positions, x) -> s.positive().addRows(x));
                    ActivationCache.stream(m.model(), neg, points, ro, (i, p, positions, x) -> s.negative().addRows(x));
                    return null;
                });
            }
            return List.of(s).iterator();
        }
    }
}
