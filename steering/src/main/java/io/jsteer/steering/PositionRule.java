/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering;

import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.Positions;

/**
 * Which token positions an intervention changes, with the words reports use for it. Wraps a
 * {@link Positions} rule (absolute positions, so prefill and KV-cached decoding agree).
 */
public record PositionRule(Positions positions, String description) {
    public PositionRule {
        if (positions == null) throw new IllegalArgumentException("positions is null");
        if (description == null || description.isBlank()) throw new IllegalArgumentException("position rule needs a description");
    }

    /** Every position, prompt and generated (how Hugging Face forward hooks steer during generate()). */
    public static PositionRule all() {
        return new PositionRule(Positions.all(), "all positions");
    }

    /** Prompt positions only. */
    public static PositionRule promptOnly() {
        return new PositionRule(Positions.promptOnly(), "prompt positions");
    }

    /** Positions {@code >= from}. */
    public static PositionRule from(int from) {
        return new PositionRule(Positions.from(from), "positions >= " + from);
    }

    /**
     * Positions from a prompt token on: {@code >= index}, or with a negative index counted from the
     * prompt's end, {@code >= promptLength + index} ({@code -1}: the last prompt token and every
     * generated one). CAA steers from the end of the instruction onward this way.
     */
    public static PositionRule fromPromptToken(int index) {
        String words = index >= 0 ? "positions >= " + index : "from prompt token " + index + " on";
        return new PositionRule((ctx, t) -> ctx.position(t) >= (index >= 0 ? index : ctx.promptLength() + index), words);
    }

    /** Positions {@code [from, to)}. */
    public static PositionRule range(int from, int to) {
        return new PositionRule(Positions.range(from, to), "positions [" + from + ", " + to + ")");
    }

    /** The last prompt token only. */
    public static PositionRule lastPrompt() {
        return new PositionRule(Positions.lastPrompt(), "last prompt token");
    }

    /** The newest token of every call: the last prompt token, then each generated token. */
    public static PositionRule newest() {
        return new PositionRule(Positions.newest(), "newest token of each call");
    }

    /** Whether row {@code t} of the current call is selected. */
    public boolean includes(HookContext ctx, int t) {
        return positions.includes(ctx, t);
    }

    @Override
    public String toString() {
        return description;
    }
}
