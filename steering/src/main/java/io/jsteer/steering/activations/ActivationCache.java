/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.SequenceProgress;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Run-with-cache: runs prompts through a model and hands over the activations at chosen hook
 * points and positions.
 *
 * <p>Prompts run several at a time ({@link BatchSize}), each as its own sequence (no padding);
 * the sink still hears them one prompt after another, in prompt order and hook order, exactly as
 * if they ran one by one, so what it accumulates does not depend on the batch size.
 *
 * <p>Memory: only the selected rows are copied (a last-token readout keeps one row per prompt and
 * point, never the whole sequence); the states of a batch are reused for the next, so KV caches
 * are allocated once; and the forward pass stops after the block of the deepest requested hook
 * point, so the blocks above it and the unembedding never run. {@link #stream} keeps nothing
 * at all (methods that need only means and variances accumulate as rows arrive); {@link #record}
 * keeps the rows for methods that need them all (SARA, whitening).
 *
 * <pre>{@code
 * HookName point = new HookName(2, HookPoint.RESID_POST);
 * Activations acts = ActivationCache.record(model, List.of(tokenizer.encode("The cat sat")), List.of(point), Readout.last());
 * float[] lastRow = acts.rows(point, 0);           // [1][hidden]: prompt 0's last token
 * }</pre>
 */
public final class ActivationCache {
    private ActivationCache() {}

    /** Receives the rows read from one prompt at one hook point. */
    @FunctionalInterface
    public interface Sink {
        /**
         * {@code rows} is {@code [positions.length][width]} row-major, a fresh array the sink may keep;
         * {@code positions} are the absolute token positions of the rows. With {@link Readout#mean()}
         * it is the one row of the prompt's mean, given at the prompt's last position.
         */
        void accept(int prompt, HookName point, int[] positions, float[] rows);
    }

    /** Runs every prompt and passes the selected rows to {@code sink}, prompt by prompt. */
    public static void stream(Model model, List<int[]> prompts, List<HookName> points, Readout readout, Sink sink) {
        if (model == null || sink == null || readout == null) throw new IllegalArgumentException("model, readout and sink are required");
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("no prompts to run");
        if (points == null || points.isEmpty()) throw new IllegalArgumentException("no hook points to record");
        List<HookName> unique = new ArrayList<>(new LinkedHashSet<>(points));
        for (HookName point : unique) {
            if (point.point().layout() == HookPoint.Layout.PATTERN) {
                throw new IllegalArgumentException(point + " is [head][query][key], not a row per token; read it with a hook on the state");
            }
        }
        // the pass stops after the deepest block read, or runs whole for the final norm
        boolean whole = unique.contains(HookName.LN_FINAL);
        int layers = unique.stream().mapToInt(HookName::layer).max().orElseThrow() + 1;
        int[][] positions = new int[prompts.size()][];
        int longest = 0;
        for (int i = 0; i < prompts.size(); i++) {
            int[] prompt = prompts.get(i);
            model.checkPrompt(prompt, "prompt " + i);
            try {
                positions[i] = readout.positions(prompt.length);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt " + i + ": " + e.getMessage(), e);
            }
            longest = Math.max(longest, prompt.length);
        }
        int batch = BatchSize.current(model, longest);
        long rowBudget = Engine.rowBudget(model);
        List<State> states = new ArrayList<>();
        for (int first = 0; first < prompts.size(); ) {
            // a batch: up to `batch` prompts whose rows fit the budget (a longer prompt runs alone)
            List<Model.Step> steps = new ArrayList<>();
            List<List<Read>> reads = new ArrayList<>();
            long rows = 0;
            int end = first;
            while (end < prompts.size() && steps.size() < batch && (steps.isEmpty() || rows + prompts.get(end).length <= rowBudget)) {
                if (states.size() == steps.size()) states.add(model.newState());
                State state = states.get(steps.size());
                state.reset();
                state.hooks().clear();
                List<Read> read = new ArrayList<>();
                int[] at = positions[end];
                for (HookName point : unique) state.hooks().add(point, (ctx, x) -> read.add(Read.of(point, at, ctx.startPos(), ctx.width(), x)));
                steps.add(new Model.Step(state, prompts.get(end), false));
                reads.add(read);
                rows += prompts.get(end).length;
                end++;
            }
            if (whole) {
                model.forward(steps);
                for (Model.Step step : steps) step.state().reset();
            } else {
                model.forwardBlocks(steps, layers);
            }
            for (int i = first; i < end; i++) {
                for (Read r : reads.get(i - first)) {
                    float[] samples = readout.samples(r.rows, r.width);
                    int[] at = samples.length == r.rows.length ? r.positions : new int[] {r.positions[r.positions.length - 1]};
                    sink.accept(i, r.point, at, samples);
                }
                SequenceProgress.finished();
            }
            first = end;
        }
        for (State s : states) s.hooks().clear();
    }

    /** Runs every prompt and keeps the selected rows. */
    public static Activations record(Model model, List<int[]> prompts, List<HookName> points, Readout readout) {
        Activations out = new Activations(prompts == null ? 0 : prompts.size(), model.config().hiddenSize());
        stream(model, prompts, points, readout, out::put);
        return out;
    }

    /** The selected rows of one prompt at one point, held until the batch is done. */
    private record Read(HookName point, int[] positions, float[] rows, int width) {
        static Read of(HookName point, int[] positions, int startPos, int width, float[] x) {
            float[] rows = new float[positions.length * width];
            for (int r = 0; r < positions.length; r++) System.arraycopy(x, (positions[r] - startPos) * width, rows, r * width, width);
            return new Read(point, positions.clone(), rows, width);
        }
    }
}
