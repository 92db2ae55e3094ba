/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.backend;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookPoint;

/**
 * A backend that runs whole forward passes on its device: weights, the residual stream and the
 * KV cache stay there between layers, and only the logits (plus the activations at hook points
 * that have hooks attached) cross to the host. {@link Model#forward} hands every call to it.
 */
public interface DeviceBackend extends Backend {
    /**
     * Runs {@code tokens} through {@code model} for the sequence {@code state}, with the contract
     * of {@link Model#forward}: logits {@code [tokens][vocab]} when {@code allLogits}, else the
     * last position's. The tokens are already validated and fit the context; the caller advances
     * the state afterwards, so {@link State#length()} is the position of {@code tokens[0]}.
     * Hooks attached to {@code state} must run, on host copies of their activations, with the
     * same {@link io.jsteer.transformer.hooks.HookContext} as on the CPU path.
     */
    float[] forward(Model model, State state, int[] tokens, boolean allLogits);

    /**
     * Runs {@code tokens} through the first {@code layers} blocks of {@code model} for the hooks
     * attached to {@code state} there, with the contract of {@link Model#forwardBlocks}: the hooks
     * of those blocks run as in {@link #forward}, no logits are computed, and the caller leaves the
     * state's length as it was, so the keys and values written count for nothing.
     */
    void forwardBlocks(Model model, State state, int[] tokens, int layers);

    /**
     * How many sequences keep a KV cache on the device at once (at least 1): a new sequence beyond
     * them takes the cache of the least recently used one, which cannot continue, so the
     * {@link io.jsteer.transformer.batch.Engine} runs no more at once.
     */
    int maxSequences();

    /**
     * Whether this backend runs hooks at {@code point}. {@link Model#forward} refuses, before any
     * work, a call whose states have a hook anywhere else. This default runs the residual-stream
     * points only ({@link HookPoint#residual()}); the points inside the block (q/k/v, scores,
     * pattern, z, the norms' outputs, the MLP's neurons) and {@code ln_final} need the CPU backend
     * until a device backend says otherwise.
     *
     * @param point a hook point
     * @return whether hooks attached there run on this backend
     */
    default boolean supports(HookPoint point) {
        return point.residual();
    }
}
