/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * jsteer as Apache Spark jobs, for steering at data scale: {@link io.jsteer.spark.JsteerSpark}
 * generates, scores and records activations over a {@code Dataset<Row>} of prompts;
 * {@link io.jsteer.spark.SparkEvaluation} runs {@code eval} and {@code sweep} with their items
 * spread over the cluster; {@link io.jsteer.spark.SparkVectors} fits a vector from a contrast
 * dataset by reducing activations per partition. What steers travels as a
 * {@link io.jsteer.spark.Steer}, the checkpoint as a {@link io.jsteer.spark.ModelSource} path that
 * every node can read, mapped once per executor JVM.
 *
 * <p>Results equal the local commands' (the same rows, the same statistics, the same files),
 * whatever the partitioning: each prompt and each evaluation item is computed alone, the batched
 * engine gives a sequence the bits it would get alone, and the moments vectors are fitted from are
 * exact.
 */
package io.jsteer.spark;
