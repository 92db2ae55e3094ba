/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * Which token positions an intervention touches. Positions are absolute (0 = first prompt token)
 * so the same rule holds in prefill and in KV-cached decoding, where each call shows one new row.
 */
@FunctionalInterface
public interface Positions {
    /** Whether row {@code t} of the current call is selected. */
    boolean includes(HookContext ctx, int t);

    /** Every position, prompt and generated. */
    static Positions all() {
        return (ctx, t) -> true;
    }

    /** Prompt positions only; generated tokens are left alone. */
    static Positions promptOnly() {
        return (ctx, t) -> ctx.position(t) < ctx.promptLength();
    }

    /** Positions {@code >= from}. */
    static Positions from(int from) {
        if (from < 0) throw new IllegalArgumentException("position must be >= 0, got " + from);
        return (ctx, t) -> ctx.position(t) >= from;
    }

    /** Exactly the positions {@code [from, to)}. */
    static Positions range(int from, int to) {
        if (from < 0 || to < from) throw new IllegalArgumentException("bad position range [" + from + ", " + to + ")");
        return (ctx, t) -> ctx.position(t) >= from && ctx.position(t) < to;
    }

    /** The last prompt token only (where CAA reads and ActAdd-style last-token edits act). */
    static Positions lastPrompt() {
        return (ctx, t) -> ctx.position(t) == ctx.promptLength() - 1;
    }

    /** The newest token of every call: the last prompt token in prefill, then each generated token. */
    static Positions newest() {
        return (ctx, t) -> t == ctx.tokens() - 1;
    }
}
