/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.batch;

import io.jsteer.transformer.Model;

/**
 * How many sequences the multi-sequence jobs (activation caching, evaluation, sweeps, apply)
 * run at once. Results do not depend on it (see {@link Engine}), only speed and memory do, so
 * it is not threaded through every signature: a caller sets it for a scope,
 * <pre>{@code
 * ScopedValue.where(BatchSize.SEQUENCES, 8).run(() -> evaluator.evaluate(steering));
 * }</pre>
 * and without it each job picks {@link Engine#defaultBatchSize} for its longest sequence.
 */
public final class BatchSize {
    /** The batch size set for the current scope. */
    public static final ScopedValue<Integer> SEQUENCES = ScopedValue.newInstance();

    private BatchSize() {}

    /** The scope's batch size, else the default for sequences of up to {@code positions} positions. */
    public static int current(Model model, int positions) {
        return SEQUENCES.isBound() ? Engine.checkBatchSize(SEQUENCES.get()) : Engine.defaultBatchSize(model, positions);
    }
}
