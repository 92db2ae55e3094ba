/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.Methods;
import io.jsteer.cli.steer.PositionRules;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.ContrastMoments;
import io.jsteer.steering.activations.Moments;
import io.jsteer.steering.vector.MomentsMethod;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.hooks.HookName;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Steering vectors fitted from contrast datasets too large for one machine: each partition runs
 * its prompts and reduces their activations to exact per-dimension moments
 * ({@link ContrastMoments}: sums and sums of squares kept exactly); only those travel, never the
 * rows, and they merge to the same bits whatever the partitioning. The vector is then fitted from
 * them by the method's own code ({@link MomentsMethod}), as the local {@code jsteer vector} fits it.
 */
public final class SparkVectors {
    private SparkVectors() {}

    /** Both sides' moments of one partition, and its number of pairs. */
    record Sides(long pairs, ContrastMoments moments) implements Serializable {
        Sides merge(Sides o) {
            return new Sides(pairs + o.pairs, moments.merge(o.moments));
        }
    }

    /**
     * Fits the method of {@code spec} (e.g. {@code caa:layer=2} or {@code sparse-mean-diff:layer=2,k=8})
     * on the pairs' prompts, text in columns {@code positive} and {@code negative} (as
     * {@code spark.read().json("contrast.jsonl")} reads the command line's contrast file). The
     * method must fit its vector from the activations' moments ({@link MomentsMethod}: CAA and
     * sparse mean difference); the result is the local fit's, bit for bit.
     *
     * @param modelName what the vector's metadata names as its model, as {@code jsteer vector} does
     * @throws IllegalArgumentException for a method that needs more than moments, a dataset without
     *     the two columns or without pairs
     */
    public static SteeringVector fit(Dataset<Row> pairs, ModelSource model, String spec, String modelName, Options options) {
        LoadedModel m = ModelCache.get(model, options.threads());
        MomentsMethod method = momentsMethod(spec, m);
        for (String c : List.of("positive", "negative")) {
            if (pairs.schema().getFieldIndex(c).isEmpty()) throw new IllegalArgumentException("the contrast dataset has no '" + c + "' column (columns: "
                    + String.join(", ", pairs.schema().fieldNames()) + ")");
        }
        Sides total = pairs.select("positive", "negative").javaRDD()
                .mapPartitions(new Reduce(model, spec, options))
                .reduce(Sides::merge);
        if (total.pairs() == 0) throw new IllegalArgumentException("the contrast dataset has no pairs");
        if (total.pairs() > Integer.MAX_VALUE) throw new IllegalArgumentException("more than " + Integer.MAX_VALUE + " contrast pairs");
        return method.fitVector(total.moments(), (int) total.pairs(), m.model().config()).withModel(modelName);
    }

    /**
     * Contrastive Activation Addition (Rimsky et al. 2023; {@code io.jsteer.steering.caa.Caa}):
     * {@code mean(positive) - mean(negative)} of the activations at {@code hook} (e.g.
     * {@code blocks.2.hook_resid_post}) and the {@code readout} positions ({@code last}, {@code all}
     * or an index); {@link #fit} with {@code caa:layer=L,hook=POINT,readout=R}.
     */
    public static SteeringVector caa(Dataset<Row> pairs, ModelSource model, String hook, String readout, String modelName, Options options) {
        HookName point = HookName.parse(hook);
        PositionRules.readout(readout); // a bad readout fails here, on the driver
        String spec = "caa:layer=" + point.layer() + ",hook=" + point.point().tlName().substring("hook_".length()) + ",readout=" + readout;
        return fit(pairs, model, spec, modelName, options);
    }

    private static MomentsMethod momentsMethod(String spec, LoadedModel m) {
        SteeringMethod method = Methods.create(MethodSpec.parse(spec), m.model().config());
        if (!(method instanceof MomentsMethod mm)) {
            throw new IllegalArgumentException("method " + method.name() + " is not fitted from per-dimension moments alone; fit it with the local 'jsteer vector'");
        }
        return mm;
    }

    /** One partition's moments. */
    private record Reduce(ModelSource model, String spec, Options options) implements FlatMapFunction<Iterator<Row>, Sides> {
        @Override
        public Iterator<Sides> call(Iterator<Row> rows) {
            LoadedModel m = ModelCache.get(model, options.threads());
            MomentsMethod method = momentsMethod(spec, m);
            int width = m.model().config().hiddenSize();
            List<int[]> pos = new ArrayList<>(), neg = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                if (r.isNullAt(0) || r.isNullAt(1)) throw new IllegalArgumentException("contrast pair " + r + " has a null side");
                pos.add(m.encode(r.getString(0)));
                neg.add(m.encode(r.getString(1)));
            }
            Sides s = new Sides(pos.size(), new ContrastMoments(new Moments(width), new Moments(width)));
            if (!pos.isEmpty()) {
                List<HookName> points = List.of(method.hook());
                RowJob.batched(options, () -> {
                    ActivationCache.stream(m.model(), pos, points, method.readout(), (i, p, positions, x) -> s.moments().positive().addRows(x));
                    ActivationCache.stream(m.model(), neg, points, method.readout(), (i, p, positions, x) -> s.moments().negative().addRows(x));
                    return null;
                });
            }
            return List.of(s).iterator();
        }
    }
}
