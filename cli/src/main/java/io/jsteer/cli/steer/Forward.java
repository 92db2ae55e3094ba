/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;

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
        State s = model.newState();
        int layers = model.config().numLayers();
        float[][] blocks = new float[layers][];
        Hooks.Handle steer = steering == null ? null : steering.attach(s);
        // attached after the steering hooks, so the recorded stream includes the steering
        for (int l = 0; l < layers; l++) {
            int layer = l;
            s.hooks().add(new HookName(l, HookPoint.RESID_POST), (ctx, x) -> blocks[layer] = x.clone());
        }
        try {
            float[] logits = model.forward(s, ids, true);
            return new Result(ids.length, model.config().vocabSize(), model.config().hiddenSize(), logits, blocks);
        } finally {
            if (steer != null) steer.close();
        }
    }
}
