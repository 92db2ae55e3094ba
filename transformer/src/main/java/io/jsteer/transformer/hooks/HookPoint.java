/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

import java.util.List;

/**
 * Places in the model where activations can be read or changed, named as in TransformerLens
 * ({@code blocks.L.attn.hook_z}). The residual-stream points ({@link #residualStream()}) are
 * {@code [pos][d_model]}; the points inside a block have their own shapes ({@link Layout}):
 *
 * <table>
 *   <caption>Hook points, in the order a sequential block reaches them</caption>
 *   <tr><th>point</th><th>shape</th><th>what</th></tr>
 *   <tr><td>{@code hook_resid_pre}</td><td>[pos][d_model]</td><td>residual stream entering the block</td></tr>
 *   <tr><td>{@code ln1.hook_normalized}</td><td>[pos][d_model]</td><td>the pre-attention norm's output, weight (and bias) applied: what attention reads</td></tr>
 *   <tr><td>{@code attn.hook_q, hook_k, hook_v}</td><td>[pos][head][d_head]</td><td>the projections with their biases, before QK-norm and rotary (k and v have the KV heads)</td></tr>
 *   <tr><td>{@code attn.hook_rot_q, hook_rot_k}</td><td>[pos][head][d_head]</td><td>q and k after QK-norm (Gemma 3, Qwen 3) and rotary: what the scores use</td></tr>
 *   <tr><td>{@code attn.hook_attn_scores}</td><td>[head][query][key]</td><td>scaled (and soft-capped, Gemma 2) scores, {@code -inf} where the causal or sliding-window mask hides a key</td></tr>
 *   <tr><td>{@code attn.hook_pattern}</td><td>[head][query][key]</td><td>softmax of the scores</td></tr>
 *   <tr><td>{@code attn.hook_z}</td><td>[pos][head][d_head]</td><td>every head's pattern-weighted sum of values, before the output projection</td></tr>
 *   <tr><td>{@code hook_attn_out}</td><td>[pos][d_model]</td><td>attention output as added to the stream</td></tr>
 *   <tr><td>{@code hook_resid_mid}</td><td>[pos][d_model]</td><td>stream between attention and MLP (sequential blocks only)</td></tr>
 *   <tr><td>{@code ln2.hook_normalized}</td><td>[pos][d_model]</td><td>the pre-MLP norm's output: what the MLP reads</td></tr>
 *   <tr><td>{@code mlp.hook_pre}</td><td>[pos][d_mlp]</td><td>before the activation function (gated MLPs: the gate projection)</td></tr>
 *   <tr><td>{@code mlp.hook_pre_linear}</td><td>[pos][d_mlp]</td><td>gated MLPs only: the up projection the activated gate multiplies</td></tr>
 *   <tr><td>{@code mlp.hook_post}</td><td>[pos][d_mlp]</td><td>input of the down projection: {@code act(pre)}, or {@code act(pre) * pre_linear} when gated</td></tr>
 *   <tr><td>{@code hook_mlp_out}</td><td>[pos][d_model]</td><td>MLP output as added to the stream</td></tr>
 *   <tr><td>{@code hook_resid_post}</td><td>[pos][d_model]</td><td>residual stream leaving the block</td></tr>
 *   <tr><td>{@code ln_final.hook_normalized}</td><td>[pos][d_model]</td><td>after the last block: the final norm's output, what the unembedding reads</td></tr>
 * </table>
 *
 * <p>Where TransformerLens differs: its {@code lnN.hook_normalized} is taken before the norm's
 * weight and bias, which it folds into the next matrices by default ({@code fold_ln}); jsteer does
 * not fold, so its {@code lnN.hook_normalized} is the norm's whole output, the input of the next
 * layer. TransformerLens' own {@code hook_attn_in} and {@code hook_mlp_in} are the un-normed
 * residual inputs (here {@code hook_resid_pre} and {@code hook_resid_mid}), so jsteer does not use
 * those names for normed values. With a KV cache its {@code hook_rot_k} shows the cached keys too;
 * here every point shows only the rows of the tokens a forward call appends, and the scores and
 * pattern those rows' queries against every key of the sequence.
 */
public enum HookPoint {
    /** Residual stream entering the block. */
    RESID_PRE("hook_resid_pre", Layout.ROWS),
    /** The pre-attention norm's output (weight and bias applied): the input attention projects. */
    LN1_NORMALIZED("ln1.hook_normalized", Layout.ROWS),
    /** Queries {@code [pos][head][d_head]}, bias added, before QK-norm and rotary. */
    Q("attn.hook_q", Layout.HEADS),
    /** Keys {@code [pos][kv_head][d_head]}, bias added, before QK-norm and rotary. */
    K("attn.hook_k", Layout.HEADS),
    /** Values {@code [pos][kv_head][d_head]}, bias added. */
    V("attn.hook_v", Layout.HEADS),
    /** Queries after QK-norm (Gemma 3, Qwen 3) and rotary, as the scores use them. */
    ROT_Q("attn.hook_rot_q", Layout.HEADS),
    /** Keys after QK-norm and rotary, as the scores use them and the KV cache keeps them. */
    ROT_K("attn.hook_rot_k", Layout.HEADS),
    /**
     * {@code [head][query][key]}: {@code scale * q . k} (soft-capped where the family caps it),
     * {@code -inf} for the keys the causal or sliding-window mask hides. Computed only when hooked.
     */
    ATTN_SCORES("attn.hook_attn_scores", Layout.PATTERN),
    /** {@code [head][query][key]}: the softmax of the scores. Computed only when hooked. */
    PATTERN("attn.hook_pattern", Layout.PATTERN),
    /** {@code [pos][head][d_head]}: each head's pattern-weighted sum of values, before the output projection. */
    Z("attn.hook_z", Layout.HEADS),
    /** Attention output as added to the stream (after Gemma 2/3's post-attention norm). */
    ATTN_OUT("hook_attn_out", Layout.ROWS),
    /** Stream after the attention sum, before the MLP; absent in parallel-residual blocks. */
    RESID_MID("hook_resid_mid", Layout.ROWS),
    /** The pre-MLP norm's output (weight and bias applied): the input the MLP projects. */
    LN2_NORMALIZED("ln2.hook_normalized", Layout.ROWS),
    /** {@code [pos][d_mlp]} before the activation function: the up projection, or in a gated MLP the gate projection; bias added. */
    MLP_PRE("mlp.hook_pre", Layout.ROWS),
    /** {@code [pos][d_mlp]}, gated MLPs only: the up projection, bias added, that the activated gate multiplies. */
    MLP_PRE_LINEAR("mlp.hook_pre_linear", Layout.ROWS),
    /** {@code [pos][d_mlp]}: the input of the down projection ({@code act(pre)}, gated: {@code act(pre) * pre_linear}). */
    MLP_POST("mlp.hook_post", Layout.ROWS),
    /** MLP output as added to the stream (after Gemma 2/3's post-feed-forward norm). */
    MLP_OUT("hook_mlp_out", Layout.ROWS),
    /**
     * Residual stream leaving the block: the block's output, never normed. For every block but the
     * last this is Hugging Face's {@code hidden_states[layer + 1]}; for the last block HF stores
     * the final norm applied to it there ({@code hidden_states[num_layers]}, as the fixtures record:
     * {@code final_norm(block_outputs[-1]) == hidden_states[-1]}), so tools that read
     * {@code hidden_states[-1]} (repeng's default layer -1, for one) see a different value.
     */
    RESID_POST("hook_resid_post", Layout.ROWS),
    /**
     * After the last block, outside every block ({@link HookName#LN_FINAL}): the final norm's output,
     * what the unembedding reads (HF's last {@code hidden_states} entry). Fires in a full forward
     * pass only, over every row of the call, logits wanted or not.
     */
    LN_FINAL("ln_final.hook_normalized", Layout.ROWS);

    /** How a hook point's values are laid out in the array a {@link Hook} receives. */
    public enum Layout {
        /** {@code [tokens][width]}, one row per token of the call. */
        ROWS,
        /** {@code [tokens][heads][width / heads]}: a row per token, each of {@link HookContext#heads()} heads. */
        HEADS,
        /** {@code [heads][tokens][keys]}: per head, a row per query token over every key of the sequence so far ({@link HookContext#keys()}). */
        PATTERN
    }

    private static final List<HookPoint> RESIDUAL = List.of(RESID_PRE, ATTN_OUT, RESID_MID, MLP_OUT, RESID_POST);

    private final String tlName;
    private final Layout layout;

    HookPoint(String tlName, Layout layout) {
        this.tlName = tlName;
        this.layout = layout;
    }

    /** @return the TransformerLens name within the block, e.g. {@code hook_resid_post} or {@code attn.hook_z} */
    public String tlName() {
        return tlName;
    }

    /** @return how the values are laid out */
    public Layout layout() {
        return layout;
    }

    /** @return whether this point is on the residual stream ({@code [pos][d_model]}, where steering vectors act) */
    public boolean residual() {
        return RESIDUAL.contains(this);
    }

    /** @return the residual-stream points, in the order a block reaches them: resid_pre, attn_out, resid_mid, mlp_out, resid_post */
    public static List<HookPoint> residualStream() {
        return RESIDUAL;
    }

    /**
     * Parses a name such as {@code hook_resid_post}, {@code attn.hook_z} or {@code ln_final.hook_normalized},
     * also without the {@code hook_} ({@code resid_post}, {@code attn.z}).
     *
     * @param s the name
     * @return the point
     */
    public static HookPoint parse(String s) {
        for (HookPoint p : values()) {
            if (p.tlName.equals(s) || p.tlName.replace("hook_", "").equals(s)) return p;
        }
        throw new IllegalArgumentException("unknown hook point '" + s + "' (expected one of resid_pre, attn_out, resid_mid, mlp_out, resid_post, "
                + "ln1.hook_normalized, attn.hook_q, attn.hook_k, attn.hook_v, attn.hook_rot_q, attn.hook_rot_k, attn.hook_attn_scores, "
                + "attn.hook_pattern, attn.hook_z, ln2.hook_normalized, mlp.hook_pre, mlp.hook_pre_linear, mlp.hook_post, ln_final.hook_normalized)");
    }
}
