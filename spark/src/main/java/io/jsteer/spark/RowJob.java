/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.batch.BatchSize;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A per-row job over a partition: rows are read {@link Options#chunkRows} at a time, each chunk
 * is run on the executor's shared model (within a chunk, several sequences at once), and each
 * input row comes out once, with its result columns, an {@code error} column (null when the row
 * ran; a bad prompt fails its row, not the job) and the provenance columns. A task that fails
 * returns nothing of its own: Spark runs it again from its input, and the rows are the same.
 */
abstract class RowJob implements MapPartitionsFunction<Row, Row> {
    /** Provenance column names. */
    static final String FINGERPRINT = "model_fingerprint", VECTOR_HASH = "vector_hash", SEED = "seed", SETTING = "setting", ERROR = "error";

    final ModelSource source;
    final Steer steer;
    final Options options;
    final String fingerprint;
    final StructType input;
    final int textIndex, idsIndex;

    RowJob(ModelSource source, Steer steer, Options options, StructType input) {
        this.source = source;
        this.steer = steer;
        this.options = options;
        this.input = input;
        this.fingerprint = source.fingerprint();
        Prompts.check(input, options);
        this.textIndex = Prompts.index(input, options.textColumn());
        this.idsIndex = Prompts.index(input, options.idsColumn());
    }

    /** The result columns this job adds before {@code error} and the provenance columns. */
    abstract StructType results();

    /** Whether the {@code seed} column holds the sampling seed (else null). */
    abstract boolean samples();

    /** The output schema: the input's columns, the results, {@code error}, then the provenance. */
    final StructType schema() {
        StructType s = input;
        for (var f : results().fields()) s = s.add(f);
        return s.add(ERROR, DataTypes.StringType, true)
                .add(FINGERPRINT, DataTypes.StringType, false)
                .add(VECTOR_HASH, DataTypes.StringType, true)
                .add(SEED, DataTypes.LongType, true)
                .add(SETTING, DataTypes.StringType, false);
    }

    /**
     * Runs {@code work} with {@link Options#batchSize} as the scope's {@link BatchSize} (the
     * steering module's measures and activation cache read it), or the default when it is 0.
     */
    static <T> T batched(Options options, Supplier<T> work) {
        if (options.batchSize() == 0) return work.get();
        return ScopedValue.where(BatchSize.SEQUENCES, options.batchSize()).call(work::get);
    }

    /** One chunk: the result values of each row (in {@link #results()} order), or its error. */
    abstract List<Outcome> run(LoadedModel m, Intervention steering, List<Prompts.Parsed> rows);

    /** A row's result values, or why it has none. */
    record Outcome(Object[] values, String error) {
        static Outcome ok(Object... values) {
            return new Outcome(values, null);
        }

        static Outcome failed(String error) {
            return new Outcome(null, error);
        }
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        LoadedModel m = ModelCache.get(source, options.threads());
        Intervention steering = steer.build(m);
        String setting = steer.setting(), hash = steer.hash();
        Long seed = samples() ? options.seed() : null;
        int width = results().size();
        return new Iterator<>() {
            private Iterator<Row> chunk = List.<Row>of().iterator();

            @Override
            public boolean hasNext() {
                while (!chunk.hasNext() && rows.hasNext()) chunk = next(rows);
                return chunk.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return chunk.next();
            }

            private Iterator<Row> next(Iterator<Row> rows) {
                List<Row> in = new ArrayList<>();
                while (in.size() < options.chunkRows() && rows.hasNext()) in.add(rows.next());
                List<Prompts.Parsed> parsed = new ArrayList<>(in.size());
                for (Row r : in) parsed.add(Prompts.parse(r, textIndex, idsIndex, options, m));
                List<Outcome> outcomes = run(m, steering, parsed);
                List<Row> out = new ArrayList<>(in.size());
                for (int i = 0; i < in.size(); i++) {
                    Row r = in.get(i);
                    Outcome o = outcomes.get(i);
                    Object[] v = new Object[r.size() + width + 5];
                    for (int c = 0; c < r.size(); c++) v[c] = r.get(c);
                    if (o.values() != null) System.arraycopy(o.values(), 0, v, r.size(), width);
                    int p = r.size() + width;
                    v[p] = o.error();
                    v[p + 1] = fingerprint;
                    v[p + 2] = hash;
                    v[p + 3] = seed;
                    v[p + 4] = setting;
                    out.add(RowFactory.create(v));
                }
                return out.iterator();
            }
        };
    }
}
