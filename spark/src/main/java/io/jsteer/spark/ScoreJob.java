/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.eval.TextNll;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Teacher-forced log-likelihood of each row's text, steered or not: {@code nll} is the mean
 * negative log-likelihood per predicted token in nats, computed by {@link TextNll} (what
 * {@code eval} and {@code sweep} report as perplexity), {@code perplexity} is its exp, and
 * {@code tokens} the text's length.
 */
final class ScoreJob extends RowJob {
    ScoreJob(ModelSource source, Steer steer, Options options, StructType input) {
        super(source, steer, options, input);
    }

    @Override
    StructType results() {
        return new StructType()
                .add("nll", DataTypes.DoubleType, true)
                .add("perplexity", DataTypes.DoubleType, true)
                .add("tokens", DataTypes.IntegerType, true);
    }

    @Override
    boolean samples() {
        return false;
    }

    @Override
    List<Outcome> run(LoadedModel m, Intervention steering, List<Prompts.Parsed> rows) {
        List<int[]> texts = new ArrayList<>();
        for (Prompts.Parsed p : rows) if (p.error() == null && p.ids().length >= 2) texts.add(p.ids());
        double[] nll = texts.isEmpty() ? new double[0] : batched(options, () -> new TextNll(texts).scores(m.model(), steering));
        List<Outcome> out = new ArrayList<>(rows.size());
        int next = 0;
        for (Prompts.Parsed p : rows) {
            if (p.error() != null) {
                out.add(Outcome.failed(p.error()));
            } else if (p.ids().length < 2) {
                out.add(Outcome.failed("the text is 1 token; its likelihood needs a token to predict"));
            } else {
                double v = nll[next++];
                out.add(Outcome.ok(v, Math.exp(v), p.ids().length));
            }
        }
        return out;
    }
}
