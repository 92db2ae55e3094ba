/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.hooks.Hooks;
import java.util.List;

/**
 * The scoring of one item of a {@link Measure} as a sequence of the batched {@link Engine}: its
 * prompt runs on a state of its own with the steering attached, and its score is stored in
 * {@code scores[item]} when it is done. Items of several measures and settings run together
 * ({@link #run}); each item's score is what it would be alone.
 */
abstract class ItemJob implements Job {
    final String measure;
    final int item;
    final int[] prompt;
    final double[] scores;
    private final Intervention steering;
    private Hooks.Handle handle;

    ItemJob(String measure, int item, int[] prompt, Intervention steering, double[] scores) {
        this.measure = measure;
        this.item = item;
        this.prompt = prompt;
        this.steering = steering;
        this.scores = scores;
    }

    /** Positions this item's sequence reaches: its prompt and what is fed after it. */
    int positions() {
        return prompt.length;
    }

    @Override
    public int[] prompt() {
        return prompt;
    }

    @Override
    public void start(State state) {
        if (steering != null) handle = steering.attach(state);
    }

    @Override
    public void end(Exception failure) {
        if (handle != null) handle.close();
        handle = null;
    }

    /** {@code failure}, which ended this item, with its measure and item named. */
    private RuntimeException describe(Exception failure) {
        String where = "measure '" + measure + "', item " + item + ": " + failure.getMessage();
        return failure instanceof IllegalArgumentException ? new IllegalArgumentException(where, failure) : new IllegalStateException(where, failure);
    }

    /**
     * Runs every item, {@link BatchSize} sequences at a time, and throws the first failure in
     * list order (its measure and item named) once all have run.
     */
    static void run(Model model, List<? extends ItemJob> items) {
        if (items.isEmpty()) return;
        int positions = items.stream().mapToInt(ItemJob::positions).max().orElseThrow();
        new Engine(model, BatchSize.current(model, positions)).run(items, ItemJob::describe);
    }
}
