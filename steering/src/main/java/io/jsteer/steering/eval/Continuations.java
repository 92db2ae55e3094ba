/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hooks;

/**
 * Fixed-length continuations with the KV cache, steered or not, seeing each step's logits: what
 * behaviour scores are computed on. Prompt and generated tokens are fed in separate calls, as in
 * {@link io.jsteer.transformer.generate.Generator}, so position-dependent interventions act as
 * they do in generation. Use {@link #generate(Model, Intervention, int[], Decoding, int)} for
 * report examples that should match what was scored.
 */
public final class Continuations {
    private Continuations() {}

    /** Sees each step's next-token logits (only valid during the call) before a token is chosen. */
    @FunctionalInterface
    interface StepObserver {
        void step(int step, float[] logits);
    }

    /**
     * The {@code decoding.maxNewTokens()} token ids following {@code prompt} on a fresh state with
     * {@code steering} attached ({@code null}: unsteered). {@code item} picks the random stream
     * when sampling; use the same value for the runs you compare.
     */
    public static int[] generate(Model model, Intervention steering, int[] prompt, Decoding decoding, int item) {
        State state = model.newState();
        Hooks.Handle handle = steering == null ? null : steering.attach(state);
        try {
            return generate(model, state, prompt, decoding, item, (s, l) -> {});
        } finally {
            if (handle != null) handle.close();
        }
    }

    /** Continues {@code prompt} on an empty {@code state} (hooks as attached), reporting each step's logits. */
    static int[] generate(Model model, State state, int[] prompt, Decoding decoding, int item, StepObserver observer) {
        int need = prompt.length + decoding.maxNewTokens() - 1;
        if (need > model.config().maxPositions()) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens plus " + decoding.maxNewTokens()
                    + " new tokens exceeds the model's max_position_embeddings " + model.config().maxPositions());
        }
        Sampler sampler = decoding.sampler(item);
        int[] out = new int[decoding.maxNewTokens()];
        float[] logits = model.forward(state, prompt, false);
        for (int step = 0; step < out.length; step++) {
            observer.step(step, logits);
            out[step] = sampler.next(logits);
            // the last token is chosen but never fed back: its successor is not needed
            if (step + 1 < out.length) logits = model.forward(state, new int[] {out[step]}, false);
        }
        return out;
    }
}
