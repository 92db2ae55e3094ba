/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Run-with-cache: runs prompts through a model and hands over the activations at chosen hook
 * points and positions.
 *
 * <p>Memory: only the selected rows are copied (a last-token readout keeps one row per prompt and
 * point, never the whole sequence); every prompt reuses one inference state, so the KV cache is
 * allocated once; and the forward pass stops as soon as the deepest requested hook point has
 * been read, so the blocks above it and the unembedding never run. {@link #stream} keeps nothing
 * at all (methods that need only means and variances accumulate as rows arrive); {@link #record}
 * keeps the rows for methods that need them all (SARA, whitening).
 */
public final class ActivationCache {
    private ActivationCache() {}

    /** Receives the rows read from one prompt at one hook point. */
    @FunctionalInterface
    public interface Sink {
        /**
         * {@code rows} is {@code [positions.length][width]} row-major, a fresh array the sink may keep;
         * {@code positions} are the absolute token positions of the rows.
         */
        void accept(int prompt, HookName point, int[] positions, float[] rows);
    }

    /** Runs every prompt (each as its own sequence, no padding) and passes the selected rows to {@code sink}. */
    public static void stream(Model model, List<int[]> prompts, List<HookName> points, Readout readout, Sink sink) {
        if (model == null || sink == null || readout == null) throw new IllegalArgumentException("model, readout and sink are required");
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("no prompts to run");
        if (points == null || points.isEmpty()) throw new IllegalArgumentException("no hook points to record");
        List<HookName> unique = new ArrayList<>(new LinkedHashSet<>(points));
        HookName deepest = unique.stream()
                .max(Comparator.comparingInt(HookName::layer).thenComparingInt(h -> h.point().ordinal()))
                .orElseThrow();
        State state = model.newState();
        Reader reader = new Reader(sink, deepest);
        for (HookName point : unique) state.hooks().add(point, (ctx, x) -> reader.read(point, ctx.startPos(), ctx.width(), x));
        for (int i = 0; i < prompts.size(); i++) {
            int[] prompt = prompts.get(i);
            if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            try {
                reader.next(i, readout.positions(prompt.length));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt " + i + ": " + e.getMessage(), e);
            }
            state.reset();
            try {
                model.forward(state, prompt, false);
                throw new IllegalStateException("the forward pass of prompt " + i + " never reached " + deepest);
            } catch (Stop expected) {
                // the deepest point has been read: the rest of the pass is not needed
            }
        }
    }

    /** Runs every prompt and keeps the selected rows. */
    public static Activations record(Model model, List<int[]> prompts, List<HookName> points, Readout readout) {
        Activations out = new Activations(prompts == null ? 0 : prompts.size(), model.config().hiddenSize());
        stream(model, prompts, points, readout, out::put);
        return out;
    }

    /** Copies the selected rows of the current prompt and stops the pass after the deepest point. */
    private static final class Reader {
        private final Sink sink;
        private final HookName deepest;
        private int prompt;
        private int[] positions;

        Reader(Sink sink, HookName deepest) {
            this.sink = sink;
            this.deepest = deepest;
        }

        void next(int prompt, int[] positions) {
            this.prompt = prompt;
            this.positions = positions;
        }

        void read(HookName point, int startPos, int width, float[] x) {
            float[] rows = new float[positions.length * width];
            for (int r = 0; r < positions.length; r++) System.arraycopy(x, (positions[r] - startPos) * width, rows, r * width, width);
            sink.accept(prompt, point, positions.clone(), rows);
            if (point.equals(deepest)) throw Stop.INSTANCE;
        }
    }

    /** Unwinds the forward pass once nothing more is needed; carries no stack trace. */
    private static final class Stop extends RuntimeException {
        static final Stop INSTANCE = new Stop();

        private Stop() {
            super("activation recording finished", null, false, false);
        }
    }
}
