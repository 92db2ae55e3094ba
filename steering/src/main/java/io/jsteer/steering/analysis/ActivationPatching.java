/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Activation patching (causal tracing; Meng et al., "Locating and Editing Factual Associations in
 * GPT", 2022; Wang et al., "Interpretability in the Wild", 2022; TransformerLens' {@code
 * patching.get_act_patch_resid_pre}): run a corrupted prompt, but with the activation at one hook
 * point and position taken from a clean prompt's run, and see how much of the clean behaviour
 * comes back.
 *
 * <p>The metric is the logit difference {@code logit(answer) - logit(other)} at the last position,
 * of the logits {@link Model#forward} returns (after Gemma 2's final soft-cap). Clean and corrupted
 * prompts must have the same number of tokens: positions are patched one to one.
 *
 * <p>Every patched run is one sequence of a {@link Engine}, so the runs go through the model
 * several at a time ({@link BatchSize}); each gets the bits it would get alone.
 *
 * <pre>{@code
 * ActivationPatching p = new ActivationPatching(model, clean, corrupt, paris, rome);
 * double[][] grid = p.residual(HookPoint.RESID_PRE);    // [layer][position]
 * double restored = (grid[3][5] - p.corruptDifference()) / (p.cleanDifference() - p.corruptDifference());
 * }</pre>
 */
public final class ActivationPatching {
    private final Model model;
    private final int[] clean, corrupt;
    private final int answer, other;
    private final double cleanDifference, corruptDifference;

    /**
     * Where one patched run takes the clean activation: a hook point, a position or all, and for a
     * point with heads ({@code attn.hook_z}, {@code hook_q/k/v}, {@code hook_pattern}) one head
     * or all. A position of a {@code [head][query][key]} point is a query row.
     *
     * @param at       the hook point
     * @param position the position patched, or {@link #ALL} for every position
     * @param head     the head patched, or {@link #ALL} for every head (and for points without heads)
     */
    public record Patch(HookName at, int position, int head) {
        /** {@link #position} or {@link #head} of a patch of every position or head. */
        public static final int ALL = -1;

        /** Checks the position and head. */
        public Patch {
            if (at == null) throw new IllegalArgumentException("patch needs a hook point");
            if (position < ALL) throw new IllegalArgumentException("patch position must be >= 0 (or ALL), got " + position);
            if (head < ALL) throw new IllegalArgumentException("patch head must be >= 0 (or ALL), got " + head);
            if (head != ALL && at.point().layout() == HookPoint.Layout.ROWS) throw new IllegalArgumentException(at + " has no heads to patch one of");
        }

        /**
         * A patch of every head at one position (or all).
         *
         * @param at       the hook point
         * @param position the position, or {@link #ALL}
         */
        public Patch(HookName at, int position) {
            this(at, position, ALL);
        }

        /**
         * A patch of every position at {@code at}.
         *
         * @param at the hook point
         * @return the patch
         */
        public static Patch all(HookName at) {
            return new Patch(at, ALL);
        }
    }

    /**
     * Patching from {@code clean} into {@code corrupt}, scored by {@code logit(answer) - logit(other)};
     * runs both prompts once.
     *
     * @param model   the model
     * @param clean   the clean prompt, whose activations are patched in
     * @param corrupt the corrupted prompt, which is run with the patches
     * @param answer  the token counted positively (typically the clean prompt's answer)
     * @param other   the token counted negatively (typically the corrupted prompt's answer)
     * @throws IllegalArgumentException when the prompts differ in length or are empty, or a token is outside the vocabulary
     */
    public ActivationPatching(Model model, int[] clean, int[] corrupt, int answer, int other) {
        if (model == null) throw new IllegalArgumentException("activation patching needs a model");
        if (clean == null || clean.length == 0 || corrupt == null || corrupt.length == 0) {
            throw new IllegalArgumentException("activation patching needs a clean and a corrupted prompt of at least one token each");
        }
        if (clean.length != corrupt.length) {
            throw new IllegalArgumentException("the clean prompt has " + clean.length + " tokens and the corrupted one " + corrupt.length
                    + ": patching pairs positions one to one, so both must have the same number of tokens");
        }
        int V = model.config().vocabSize();
        for (int t : new int[] {answer, other}) {
            if (t < 0 || t >= V) throw new IllegalArgumentException("answer token " + t + " is outside the vocabulary [0, " + V + ")");
        }
        this.model = model;
        this.clean = clean.clone();
        this.corrupt = corrupt.clone();
        this.answer = answer;
        this.other = other;
        float[] c = model.forward(model.newState(), clean, false), k = model.forward(model.newState(), corrupt, false);
        this.cleanDifference = (double) c[answer] - c[other];
        this.corruptDifference = (double) k[answer] - k[other];
    }

    /** @return the metric of the clean run */
    public double cleanDifference() {
        return cleanDifference;
    }

    /** @return the metric of the corrupted run without patches */
    public double corruptDifference() {
        return corruptDifference;
    }

    /** @return the number of tokens of each prompt */
    public int length() {
        return clean.length;
    }

    /**
     * The metric of the corrupted run under each patch, one patched run per patch.
     *
     * @param patches where to patch, each its own run
     * @return {@code metric[i]} of {@code patches.get(i)}
     * @throws IllegalArgumentException when a hook point is outside the model or a position outside the prompt
     */
    public double[] run(List<Patch> patches) {
        LinkedHashSet<HookName> points = new LinkedHashSet<>();
        for (Patch p : patches) {
            if (p.position() >= clean.length) throw new IllegalArgumentException("patch position " + p.position() + " is outside the prompt of " + clean.length + " tokens");
            if (p.head() >= headCount(p.at().point())) throw new IllegalArgumentException("head " + p.head() + " is outside " + p.at() + ", which has " + headCount(p.at().point()) + " heads");
            if (p.at().point() == HookPoint.LN_FINAL) throw new IllegalArgumentException(p.at() + " is after the blocks; patch blocks.L.hook_resid_post of the last block instead");
            points.add(p.at());
        }
        List<HookName> order = List.copyOf(points);
        float[][] acts = order.isEmpty() ? new float[0][] : Streams.record(model, clean, order);
        double[] out = new double[patches.size()];
        List<Patched> jobs = new ArrayList<>(patches.size());
        for (int i = 0; i < patches.size(); i++) jobs.add(new Patched(patches.get(i), acts[order.indexOf(patches.get(i).at())], out, i));
        if (!jobs.isEmpty()) new Engine(model, BatchSize.current(model, corrupt.length)).run(jobs);
        return out;
    }

    /**
     * Patches the activation at {@code point} of every block, one position at a time: TransformerLens'
     * {@code get_act_patch_resid_pre} for {@code RESID_PRE}.
     *
     * @param point a hook point with a row per token: on the residual stream ({@code RESID_MID} only
     *              in sequential blocks) or inside the block ({@code attn.hook_z}: every head at once)
     * @return {@code metric[layer][position]}
     */
    public double[][] residual(HookPoint point) {
        if (point.layout() == HookPoint.Layout.PATTERN || point == HookPoint.LN_FINAL) {
            throw new IllegalArgumentException(point.tlName() + " has no row per position and layer to patch; patch a residual-stream point or attn.hook_z");
        }
        int L = model.config().numLayers(), T = clean.length;
        List<Patch> patches = new ArrayList<>(L * T);
        for (int l = 0; l < L; l++) {
            for (int t = 0; t < T; t++) patches.add(new Patch(new HookName(l, point), t));
        }
        double[] flat = run(patches);
        double[][] grid = new double[L][T];
        for (int l = 0; l < L; l++) System.arraycopy(flat, l * T, grid[l], 0, T);
        return grid;
    }

    /**
     * Patches each head of {@code point} over every position, one head at a time: TransformerLens'
     * {@code get_act_patch_attn_head_out_all_pos} for {@code Z}.
     *
     * @param point a point with heads, such as {@link HookPoint#Z}
     * @return {@code metric[layer][head]}
     */
    public double[][] heads(HookPoint point) {
        int L = model.config().numLayers(), H = headCount(point);
        if (point.layout() == HookPoint.Layout.ROWS) throw new IllegalArgumentException(point.tlName() + " has no heads; patch a point such as attn.hook_z");
        List<Patch> patches = new ArrayList<>(L * H);
        for (int l = 0; l < L; l++) {
            for (int h = 0; h < H; h++) patches.add(new Patch(new HookName(l, point), Patch.ALL, h));
        }
        double[] flat = run(patches);
        double[][] grid = new double[L][H];
        for (int l = 0; l < L; l++) System.arraycopy(flat, l * H, grid[l], 0, H);
        return grid;
    }

    /** The heads of a point: the KV heads for keys and values, else the query heads (1 for points without heads). */
    private int headCount(HookPoint point) {
        return switch (point) {
            case K, V, ROT_K -> model.config().numKvHeads();
            default -> point.layout() == HookPoint.Layout.ROWS ? 1 : model.config().numHeads();
        };
    }

    /** One corrupted run with the clean activation written over one point (and position, and head). */
    private final class Patched implements Job {
        private final Patch patch;
        private final float[] source;
        private final double[] out;
        private final int index;
        private Hooks.Handle handle;

        Patched(Patch patch, float[] source, double[] out, int index) {
            this.patch = patch;
            this.source = source;
            this.out = out;
            this.index = index;
        }

        @Override
        public int[] prompt() {
            return corrupt;
        }

        @Override
        public void start(State state) {
            handle = state.hooks().add(patch.at(), this::copy);
        }

        /** Copies the patched rows (or the head's part of them) from the clean run, as the point lays them out. */
        private void copy(HookContext ctx, float[] x) {
            int T = ctx.tokens(), w = ctx.width();
            int from = patch.position() == Patch.ALL ? 0 : patch.position(), to = patch.position() == Patch.ALL ? T : from + 1;
            if (ctx.name().point().layout() == HookPoint.Layout.PATTERN) {
                for (int h = 0; h < ctx.heads(); h++) {
                    if (patch.head() != Patch.ALL && h != patch.head()) continue;
                    System.arraycopy(source, (h * T + from) * w, x, (h * T + from) * w, (to - from) * w);
                }
                return;
            }
            for (int t = from; t < to; t++) {
                if (patch.head() == Patch.ALL) System.arraycopy(source, t * w, x, t * w, w);
                else System.arraycopy(source, t * w + patch.head() * ctx.headDim(), x, t * w + patch.head() * ctx.headDim(), ctx.headDim());
            }
        }

        @Override
        public int next(float[] logits) {
            out[index] = (double) logits[answer] - logits[other];
            return END;
        }

        @Override
        public void end(Exception failure) {
            if (handle != null) handle.close();
        }
    }
}
