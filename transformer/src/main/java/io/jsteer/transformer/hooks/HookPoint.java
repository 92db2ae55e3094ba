/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * Places in a block where the residual stream (or what is added to it) can be read or changed,
 * named as in TransformerLens.
 */
public enum HookPoint {
    /** Residual stream entering the block. */
    RESID_PRE("hook_resid_pre"),
    /** Attention output as added to the stream (after Gemma 2/3's post-attention norm). */
    ATTN_OUT("hook_attn_out"),
    /** Stream after the attention sum, before the MLP; absent in parallel-residual blocks. */
    RESID_MID("hook_resid_mid"),
    /** MLP output as added to the stream (after Gemma 2/3's post-feed-forward norm). */
    MLP_OUT("hook_mlp_out"),
    /** Residual stream leaving the block (HF's {@code hidden_states[layer + 1]}). */
    RESID_POST("hook_resid_post");

    private final String tlName;

    HookPoint(String tlName) {
        this.tlName = tlName;
    }

    /** The TransformerLens suffix, e.g. {@code hook_resid_post}. */
    public String tlName() {
        return tlName;
    }

    /** Parses a suffix such as {@code hook_resid_post} or {@code resid_post}. */
    public static HookPoint parse(String s) {
        for (HookPoint p : values()) {
            if (p.tlName.equals(s) || p.tlName.substring(5).equals(s)) return p;
        }
        throw new IllegalArgumentException("unknown hook point '" + s + "' (expected one of resid_pre, attn_out, resid_mid, mlp_out, resid_post)");
    }
}
