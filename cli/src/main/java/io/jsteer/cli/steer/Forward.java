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
import java.util.List;

/** One forward pass over a prompt that also keeps the residual stream after every block. */
public final class Forward {
    private Forward() {}

    /**
     * @param logits {@code [tokens][vocab]}, row-major
     * @param blocks {@code blocks[l]} = {@code resid_post} of block {@code l}, {@code [tokens][hidden]} row-major
     */
    public record Result(int tokens, int vocab, int hidden, float[] logits, float[][] blocks) {}

    /** Runs {@code ids} through a fresh state with {@code steering} attached (null: none). */
    public static Result run(Model model, int[] ids, Intervention steering) {
        return runAll(model, List.of(ids), steering).getFirst();
    }

    /** Runs each prompt as its own sequence, several at a time ({@link BatchSize}); the results are those of {@link #run}. */
    public static List<Result> runAll(Model model, List<int[]> prompts, Intervention steering) {
        List<Recording> jobs = new ArrayList<>();
        int longest = 1;
        for (int[] ids : prompts) {
            jobs.add(new Recording(model, ids, steering));
            longest = Math.max(longest, ids.length);
        }
        new Engine(model, BatchSize.current(model, longest)).run(jobs);
        return jobs.stream().map(j -> j.result).toList();
    }

    /** One prompt's pass, keeping every block's resid_post. */
    private static final class Recording implements Job {
        private final Model model;
        private final int[] ids;
        private final Intervention steering;
        private final float[][] blocks;
        private final List<Hooks.Handle> handles = new ArrayList<>();
        Result result;

        Recording(Model model, int[] ids, Intervention steering) {
            this.model = model;
            this.ids = ids;
            this.steering = steering;
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
        }

        @Override
        public int next(float[] logits) {
            result = new Result(ids.length, model.config().vocabSize(), model.config().hiddenSize(), logits.clone(), blocks);
            return END;
        }

        @Override
        public void end(Exception failure) {
            handles.forEach(Hooks.Handle::close);
        }
    }
}
