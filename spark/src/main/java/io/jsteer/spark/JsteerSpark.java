/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * jsteer over Spark Datasets: every row's prompt (text in {@link Options#textColumn}, or token
 * ids in {@link Options#idsColumn}) runs on the executors' copy of the model, steered by a
 * {@link Steer}; each input row comes out once, with its columns, the results, an {@code error}
 * column (a bad prompt fails its own row, not the job) and the provenance columns
 * {@code model_fingerprint}, {@code vector_hash}, {@code seed} and {@code setting}.
 *
 * <p>Each executor JVM maps the checkpoint once and shares the {@code Model} among its tasks;
 * within a partition, prompts run several at a time on the batched engine, whose results equal
 * running each prompt alone, so the results do not depend on the partitioning. The returned
 * Datasets are lazy, like any other: nothing runs until they are written or collected.
 */
public final class JsteerSpark {
    private JsteerSpark() {}

    /**
     * Continues each prompt as the {@code apply} command does: columns {@code continuation},
     * {@code continuation_ids}, {@code stop} (and {@code unsteered}, {@code unsteered_ids} with
     * {@link Options#withUnsteered}).
     */
    public static Dataset<Row> generate(Dataset<Row> prompts, ModelSource model, Steer steer, Options options) {
        return run(prompts, new GenerateJob(model, steer, options, prompts.schema()));
    }

    /**
     * Teacher-forced likelihood of each text: {@code nll} (mean negative log-likelihood per
     * predicted token, nats), {@code perplexity} and {@code tokens}.
     */
    public static Dataset<Row> score(Dataset<Row> texts, ModelSource model, Steer steer, Options options) {
        return run(texts, new ScoreJob(model, steer, options, texts.schema()));
    }

    /**
     * Activations of each prompt at {@link Options#points} and the {@link Options#readout}
     * positions: {@code positions} and one {@code array<array<float>>} column per point, named
     * like {@code blocks_2_hook_resid_post}.
     */
    public static Dataset<Row> activations(Dataset<Row> prompts, ModelSource model, Steer steer, Options options) {
        return run(prompts, new ActivationsJob(model, steer, options, prompts.schema()));
    }

    private static Dataset<Row> run(Dataset<Row> in, RowJob job) {
        return in.mapPartitions(job, Encoders.row(job.schema()));
    }
}
