/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.generate.Generation;
import io.jsteer.transformer.generate.Generator;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Continuations of each row's prompt, steered (and unsteered when asked), as the {@code apply}
 * command makes them: every prompt's sampler starts from the seed, generation stops at the
 * model's end-of-sequence tokens unless told not to. A chunk's generations run on one
 * {@link Engine}, whose results equal running each alone.
 */
final class GenerateJob extends RowJob {
    GenerateJob(ModelSource source, Steer steer, Options options, StructType input) {
        super(source, steer, options, input);
    }

    @Override
    StructType results() {
        StructType s = new StructType()
                .add("continuation", DataTypes.StringType, true)
                .add("continuation_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
                .add("stop", DataTypes.StringType, true);
        if (options.withUnsteered()) {
            s = s.add("unsteered", DataTypes.StringType, true).add("unsteered_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true);
        }
        return s;
    }

    @Override
    boolean samples() {
        return true;
    }

    @Override
    List<Outcome> run(LoadedModel m, Intervention steering, List<Prompts.Parsed> rows) {
        Model model = m.model();
        int context = model.config().maxPositions(), vocab = model.config().vocabSize();
        int[] stops = options.ignoreEos() ? new int[0] : model.config().eosTokenIds().clone();
        int runs = options.withUnsteered() ? 2 : 1;
        Generation[][] jobs = new Generation[rows.size()][];
        String[] errors = new String[rows.size()];
        List<Generation> all = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Prompts.Parsed p = rows.get(i);
            if (p.error() != null) {
                errors[i] = p.error();
                continue;
            }
            jobs[i] = new Generation[runs];
            for (int r = 0; r < runs; r++) {
                Intervention s = r == 0 ? steering : null;
                jobs[i][r] = new Generation(p.ids(), options.maxNewTokens(), options.sampler(), stops, null, s == null ? null : s::attach, context, vocab);
                all.add(jobs[i][r]);
            }
        }
        if (options.maxNewTokens() > 0 && !all.isEmpty()) {
            int longest = rows.stream().filter(p -> p.ids() != null).mapToInt(p -> p.ids().length).max().orElse(1);
            Engine engine = new Engine(model, batched(options, () -> BatchSize.current(model, Math.min(context, longest + options.maxNewTokens()))));
            for (Generation g : all) engine.submit(g);
            while (engine.step()) {
                // each step advances every running sequence by one token
            }
        }
        List<Outcome> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            if (errors[i] != null) {
                out.add(Outcome.failed(errors[i]));
                continue;
            }
            // prompts were checked: a failure now is the model's or the executor's, and fails the task (Spark retries it)
            Generator.Result steered = jobs[i][0].result();
            Object[] v = new Object[results().size()];
            v[0] = m.decode(steered.tokens());
            v[1] = steered.tokens();
            v[2] = steered.stop().name();
            if (runs == 2) {
                Generator.Result plain = jobs[i][1].result();
                v[3] = m.decode(plain.tokens());
                v[4] = plain.tokens();
            }
            out.add(Outcome.ok(v));
        }
        return out;
    }
}
