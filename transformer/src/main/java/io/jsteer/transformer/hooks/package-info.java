/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Hook points named as in TransformerLens ({@code blocks.L.hook_resid_post}), where attached
 * {@link io.jsteer.transformer.hooks.Hook}s read and change activations.
 *
 * <h2>The hook contract</h2>
 * Every backend follows it, for single sequences and for batches alike:
 * <ul>
 *   <li>A hook belongs to one sequence (it is attached to that sequence's
 *       {@link io.jsteer.transformer.State}) and sees only that sequence's rows.</li>
 *   <li>Each forward call that appends {@code T} tokens to a sequence calls each of its active
 *       hooks once per hook point, with {@code x[T][width]} holding exactly those tokens' rows, in
 *       order, and a {@link io.jsteer.transformer.hooks.HookContext} giving the absolute position
 *       of the first row ({@code startPos}, the sequence's length before the call) and the prompt
 *       length (the tokens of the first call on the state).</li>
 *   <li>When several sequences share a batched call ({@code Model.forward(List)}), each is shown
 *       its own rows exactly as if it ran alone: the same {@code T}, positions and context, in a
 *       separate array; what a hook writes there flows into that sequence's rows only.
 *       Sequences with different hooks, or none, share a batch.</li>
 *   <li>Within a call, hook points fire in block order and, within a block, in the order
 *       {@code resid_pre, attn_out, resid_mid, mlp_out, resid_post}; for one point, sequences
 *       are visited in batch order.</li>
 * </ul>
 */
package io.jsteer.transformer.hooks;
