/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.batch;

import io.jsteer.transformer.State;

/**
 * One sequence's work for an {@link Engine}: a prompt, then one token at a time for as long as it
 * wants, seeing the logits of each step. Jobs are called on the engine's thread only.
 *
 * <p>Example, the greedy continuation of a prompt:
 * <pre>{@code
 * int[] out = new int[10];
 * engine.run(List.of(new Job() {
 *     int n;
 *     public int[] prompt() { return prompt; }
 *     public int next(float[] logits) {
 *         out[n++] = Sampler.argmax(logits, 0, vocab);
 *         return n < out.length ? out[n - 1] : END;
 *     }
 * }));
 * }</pre>
 */
public interface Job {
    /** Returned by {@link #next} when the job needs no further step. */
    int END = -1;

    /** The prompt, fed whole in the job's first step; asked before {@link #start} (perhaps more than once: the same tokens each time). */
    int[] prompt();

    /**
     * The job is admitted: {@code state} is an empty sequence with no hooks, the job's until it
     * ends; attach the job's hooks (steering, recorders) to it here. Nothing by default.
     */
    default void start(State state) {}

    /** Whether the first step returns logits for every prompt position ({@code [prompt][vocab]}) rather than the last only. */
    default boolean allPromptLogits() {
        return false;
    }

    /**
     * The logits of the step just run (see {@link #allPromptLogits}; later steps give
     * {@code [vocab]}), valid during the call; returns the next token to feed, or {@link #END}.
     */
    int next(float[] logits);

    /**
     * The job is over: after {@link #next} returned {@link #END} ({@code failure == null}), or
     * because it failed: its prompt was rejected, it or one of its hooks threw, its values turned
     * non-finite (a {@link io.jsteer.transformer.NonFiniteException}) — the other jobs of the step
     * go on — or a forward pass it was part of failed as a whole. Detach hooks attached in {@link #start} here. Nothing is called after this.
     */
    default void end(Exception failure) {}
}
