/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One forward pass over a prompt that also keeps the residual stream after every block, and the activations at chosen hook points. */
public final class Forward {
    private Forward() {}

    /**
     * @param logits {@code [tokens][vocab]}, row-major
     * @param blocks {@code blocks[l]} = {@code resid_post} of block {@code l}, {@code [tokens][hidden]} row-major
     * @param hooks  the activation at each recorded hook point, {@code [tokens][hidden]} row-major, in the order the forward pass reached them
     */
    public record Result(int tokens, int vocab, int hidden, float[] logits, float[][] blocks, Map<HookName, float[]> hooks) {}

    /** Runs {@code ids} through a fresh state with {@code steering} attached (null: none). */
    public static Result run(Model model, int[] ids, Intervention steering) {
        return run(model, ids, steering, List.of());
    }

    /** As {@link #run(Model, int[], Intervention)}, also recording the activations at {@code record}. */
    public static Result run(Model model, int[] ids, Intervention steering, List<HookName> record) {
        return runAll(model, List.of(ids), steering, record).getFirst();
    }

    /** Runs each prompt as its own sequence, several at a time ({@link BatchSize}); the results are those of {@link #run}. */
    public static List<Result> runAll(Model model, List<int[]> prompts, Intervention steering) {
        return runAll(model, prompts, steering, List.of());
    }

    private static List<Result> runAll(Model model, List<int[]> prompts, Intervention steering, List<HookName> record) {
        List<Recording> jobs = new ArrayList<>();
        int longest = 1;
        for (int[] ids : prompts) {
            jobs.add(new Recording(model, ids, steering, record));
            longest = Math.max(longest, ids.length);
        }
        new Engine(model, BatchSize.current(model, longest)).run(jobs);
        return jobs.stream().map(j -> j.result).toList();
    }

    /**
     * The hook points named by {@code spec}: {@code all} (every residual-stream point of every block;
     * resid_mid only with a sequential residual) or a comma-separated list such as
     * {@code blocks.0.hook_attn_out,1.mlp_out,blocks.2.attn.hook_z,ln_final.hook_normalized}: any point
     * with a row per token (the {@code [head][query][key]} scores and pattern are not).
     */
    public static List<HookName> hookPoints(Model model, String spec) {
        int layers = model.config().numLayers();
        List<HookName> out = new ArrayList<>();
        if (spec.equals("all")) {
            for (int l = 0; l < layers; l++) {
                for (HookPoint p : HookPoint.residualStream()) {
                    if (p != HookPoint.RESID_MID || !model.config().parallelResidual()) out.add(new HookName(l, p));
                }
            }
            return out;
        }
        for (String part : spec.split(",", -1)) {
            HookName name = HookName.parse(part.strip());
            if (name.layer() >= layers) {
                throw new IllegalArgumentException("--hooks: " + name + " is out of range: the model has blocks 0.." + (layers - 1));
            }
            if (name.point() == HookPoint.RESID_MID && model.config().parallelResidual()) {
                throw new IllegalArgumentException("--hooks: " + name + " does not exist: this model's blocks use a parallel residual");
            }
            if (name.point().layout() == HookPoint.Layout.PATTERN) {
                throw new IllegalArgumentException("--hooks: " + name + " is [head][query][key], not a row per token; read it with a hook in Java");
            }
            if (!model.newState().hooks().points().contains(name)) {
                throw new IllegalArgumentException("--hooks: " + name + " does not exist in this model (mlp.hook_pre_linear needs a gated MLP)");
            }
            if (!out.contains(name)) out.add(name);
        }
        return out;
    }

    /** One prompt's pass, keeping every block's resid_post and the activations at the recorded points. */
    private static final class Recording implements Job {
        private final Model model;
        private final int[] ids;
        private final Intervention steering;
        private final List<HookName> record;
        private final float[][] blocks;
        private final Map<HookName, float[]> seen = new LinkedHashMap<>();
        private final List<Hooks.Handle> handles = new ArrayList<>();
        Result result;

        Recording(Model model, int[] ids, Intervention steering, List<HookName> record) {
            this.model = model;
            this.ids = ids;
            this.steering = steering;
            this.record = record;
            this.blocks = new float[model.config().numLayers()][];
        }

        @Override
        public int[] prompt() {
            return ids;
        }

        @Override
        public boolean allPromptLogits() {
            return true;
        }

        @Override
        public void start(State s) {
            if (steering != null) handles.add(steering.attach(s));
            // attached after the steering hooks, so the recorded stream includes the steering
            for (int l = 0; l < blocks.length; l++) {
                int layer = l;
                handles.add(s.hooks().add(new HookName(l, HookPoint.RESID_POST), (ctx, x) -> blocks[layer] = x.clone()));
            }
            for (HookName name : record) handles.add(s.hooks().add(name, (ctx, x) -> seen.put(name, x.clone())));
        }

        @Override
        public int next(float[] logits) {
            result = new Result(ids.length, model.config().vocabSize(), model.config().hiddenSize(), logits.clone(), blocks, seen);
            return END;
        }

        @Override
        public void end(Exception failure) {
            handles.forEach(Hooks.Handle::close);
        }
    }
}
