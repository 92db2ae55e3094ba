/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.kernels.MatMul;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * The rows of one batched forward call: the new tokens of every sequence stacked into one
 * activation {@code x[rows][d]}, with each row's sequence and absolute position. Nothing is
 * padded: a sequence of 1 new token adds one row, a prompt of 70 adds 70. Prompts (steps of at
 * least {@link MatMul#PROMPT_TOKENS} tokens) come first, in order, then the other steps, in
 * order: the products take the first {@link #promptRows} rows in the prompt order.
 */
final class Batch {
    final List<Model.Step> steps;
    /** Total rows, the sum of every step's token count. */
    final int rows;
    /** Rows of the prompts, which come first. */
    final int promptRows;
    /** {@code first[s]}: the row where sequence {@code s} starts. */
    private final int[] first;
    /** {@code count[s]}: sequence {@code s}'s rows, its step's tokens. */
    private final int[] count;
    /** Sequence index of each row. */
    private final int[] sequenceOf;
    /** Position in its sequence's cache of each row. */
    private final int[] positionOf;
    /** Prompt length each sequence's hooks are shown (the state's, or this call's tokens for a fresh state). */
    private final int[] promptLength;
    /** What each sequence's hooks threw, if anything (see {@link #hook}). */
    private final RuntimeException[] failures;

    Batch(List<Model.Step> steps, int vocabSize) {
        if (steps.isEmpty()) throw new IllegalArgumentException("no sequences to process");
        IdentityHashMap<State, Integer> seen = new IdentityHashMap<>();
        int n = 0;
        for (int i = 0; i < steps.size(); i++) {
            Model.Step step = steps.get(i);
            if (seen.put(step.state(), i) != null) throw new IllegalArgumentException("sequence " + i + " of the batch shares its state with sequence " + seen.get(step.state()));
            Model.checkIds(step.tokens(), vocabSize, steps.size() == 1 ? "the tokens" : "the tokens of sequence " + i + " of the batch");
            n = Math.addExact(n, step.tokens().length);
        }
        this.steps = steps;
        this.rows = n;
        this.first = new int[steps.size()];
        this.count = new int[steps.size()];
        this.sequenceOf = new int[rows];
        this.positionOf = new int[rows];
        this.promptLength = new int[steps.size()];
        this.failures = new RuntimeException[steps.size()];
        int row = 0, prompt = 0;
        for (boolean prompts : new boolean[] {true, false}) {
            for (int s = 0; s < steps.size(); s++) {
                State state = steps.get(s).state();
                int T = steps.get(s).tokens().length;
                if (isPrompt(T) != prompts) continue;
                first[s] = row;
                count[s] = T;
                promptLength[s] = state.promptLength() < 0 ? T : state.promptLength();
                for (int t = 0; t < T; t++, row++) {
                    sequenceOf[row] = s;
                    positionOf[row] = state.length() + t;
                }
            }
            if (prompts) prompt = row;
        }
        this.promptRows = prompt;
    }

    /** Whether a step of {@code tokens} tokens takes the prompt order. */
    static boolean isPrompt(int tokens) {
        return MatMul.promptRows(tokens) > 0;
    }

    int sequences() {
        return steps.size();
    }

    State state(int sequence) {
        return steps.get(sequence).state();
    }

    int firstRow(int sequence) {
        return first[sequence];
    }

    int rowCount(int sequence) {
        return count[sequence];
    }

    int sequenceOf(int row) {
        return sequenceOf[row];
    }

    int positionOf(int row) {
        return positionOf[row];
    }

    /** Whether any sequence of the batch has a hook at {@code layer}/{@code point}. */
    boolean active(int layer, HookPoint point) {
        for (Model.Step step : steps) if (step.state().hooks().active(layer, point)) return true;
        return false;
    }

    /** Whether sequence {@code s} has a hook at {@code layer}/{@code point}. */
    boolean active(int s, int layer, HookPoint point) {
        return state(s).hooks().active(layer, point);
    }

    /** As {@link #hook(int, HookPoint, float[], int, int)} for a point of one head per row. */
    void hook(int layer, HookPoint point, float[] x, int width) {
        hook(layer, point, x, width, 1);
    }

    /**
     * Runs each sequence's hooks at {@code layer}/{@code point} over its own rows of
     * {@code x[rows][width]}, as if it ran alone (see {@link io.jsteer.transformer.hooks}): a
     * sequence sharing the batch is shown a copy of its rows, and what its hooks write is copied back.
     * {@code heads} is the number of heads a row holds at a per-head point, else 1.
     * A hook that throws while sharing the batch fails its own sequence only ({@link #failure}):
     * its later hooks are skipped and the others go on; alone, it throws.
     */
    void hook(int layer, HookPoint point, float[] x, int width, int heads) {
        for (int s = 0; s < steps.size(); s++) {
            if (!active(s, layer, point) || failures[s] != null) continue;
            int T = rowCount(s);
            HookContext ctx = context(s, new HookName(layer, point), width, heads);
            if (steps.size() == 1) {
                state(s).hooks().run(ctx, x);
                continue;
            }
            float[] own = new float[T * width];
            System.arraycopy(x, first[s] * width, own, 0, own.length);
            if (run(s, ctx, own)) System.arraycopy(own, 0, x, first[s] * width, own.length);
        }
    }

    /**
     * Runs sequence {@code s}'s hooks over an array of its own; false if they threw while the
     * sequence shared the batch (its {@link #failure} from then on) or it had failed already.
     */
    boolean run(int s, HookContext ctx, float[] own) {
        if (failures[s] != null) return false;
        if (steps.size() == 1) {
            state(s).hooks().run(ctx, own);
            return true;
        }
        try {
            state(s).hooks().run(ctx, own);
            return true;
        } catch (RuntimeException e) {
            failures[s] = e;
            return false;
        }
    }

    /** What sequence {@code s}'s hooks at {@code name} are shown: its positions and prompt length, with the given shape. */
    HookContext context(int s, HookName name, int width, int heads) {
        return new HookContext(name, positionOf[first[s]], rowCount(s), width, promptLength[s], heads);
    }

    /** What a hook of {@code sequence} threw in this call, or null. */
    RuntimeException failure(int sequence) {
        return failures[sequence];
    }
}
