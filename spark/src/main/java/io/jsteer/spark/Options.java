/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.generate.Sampler;
import java.io.Serializable;
import java.util.List;

/**
 * How a Dataset job reads its input and runs: the prompt columns, decoding, what to record, and
 * the executor's batch size and threads. Immutable; start from {@link #defaults()}.
 *
 * @param textColumn    column of prompt text (tokenized with the model's tokenizer), used when present and not null
 * @param idsColumn     column of token ids ({@code array<int>}), used when the text column is absent or null
 * @param maxNewTokens  tokens to generate
 * @param temperature   0 for greedy decoding, else the sampling temperature
 * @param topK          0 or the number of most likely tokens sampled from
 * @param topP          1 or the nucleus mass
 * @param seed          sampling seed; every prompt's sampler starts from it, as the {@code apply} command's does
 * @param ignoreEos     do not stop at the model's end-of-sequence tokens
 * @param withUnsteered also generate each prompt unsteered (same seed)
 * @param points        hook points to record ({@code blocks.L.hook_resid_post}, ...)
 * @param readout       positions recorded: {@code last}, {@code all} or a token index (negative from the end)
 * @param batchSize     sequences per forward pass within a partition; 0 picks one from the free heap
 * @param threads       kernel threads per executor JVM; 0 keeps the JVM's setting (all cores, or {@code -Djsteer.threads})
 * @param chunkRows     rows of a partition read and run together, bounding a task's memory
 */
public record Options(String textColumn, String idsColumn, int maxNewTokens, double temperature, int topK, double topP, long seed,
                      boolean ignoreEos, boolean withUnsteered, List<String> points, String readout, int batchSize, int threads,
                      int chunkRows) implements Serializable {
    public Options {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        new Sampler(temperature, topK, topP, seed); // validates the sampling settings
        if (batchSize != 0) Engine.checkBatchSize(batchSize);
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (chunkRows < 1) throw new IllegalArgumentException("chunk rows must be >= 1, got " + chunkRows);
        points = List.copyOf(points);
    }

    /** Text in {@code prompt}, ids in {@code ids}; 40 greedy tokens; the last position of {@code blocks.0.hook_resid_post}; batch and threads chosen by the executor. */
    public static Options defaults() {
        return new Options("prompt", "ids", 40, 0, 0, 1, 0, false, false, List.of("blocks.0.hook_resid_post"), "last", 0, 0, 256);
    }

    public Options withColumns(String text, String ids) {
        return new Options(text, ids, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, threads, chunkRows);
    }

    public Options withMaxNewTokens(int n) {
        return new Options(textColumn, idsColumn, n, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, threads, chunkRows);
    }

    public Options withSampling(double temperature, int topK, double topP, long seed) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, threads, chunkRows);
    }

    public Options withIgnoreEos(boolean ignore) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignore, withUnsteered, points, readout, batchSize, threads, chunkRows);
    }

    public Options withUnsteered(boolean also) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, also, points, readout, batchSize, threads, chunkRows);
    }

    public Options withRecording(List<String> points, String readout) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, threads, chunkRows);
    }

    public Options withBatchSize(int n) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, n, threads, chunkRows);
    }

    public Options withThreads(int n) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, n, chunkRows);
    }

    public Options withChunkRows(int n) {
        return new Options(textColumn, idsColumn, maxNewTokens, temperature, topK, topP, seed, ignoreEos, withUnsteered, points, readout, batchSize, threads, n);
    }

    /** A fresh sampler at the start of its random stream. */
    Sampler sampler() {
        return new Sampler(temperature, topK, topP, seed);
    }
}
