/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * What a hook is being shown: the activations of {@code tokens} tokens at absolute positions
 * {@code startPos .. startPos + tokens - 1} of a sequence whose prompt was {@code promptLength}
 * tokens long (the tokens of the first forward call on the state), laid out as the point's
 * {@link HookPoint#layout()} says:
 * <ul>
 *   <li>{@link HookPoint.Layout#ROWS ROWS}: {@code x[tokens][width]};</li>
 *   <li>{@link HookPoint.Layout#HEADS HEADS}: {@code x[tokens][heads][width / heads]}, so still a row of
 *       {@code width} values per token;</li>
 *   <li>{@link HookPoint.Layout#PATTERN PATTERN}: {@code x[heads][tokens][width]} with
 *       {@code width == keys()}: each query token's row over every key of the sequence so far.</li>
 * </ul>
 *
 * @param name         the hook point
 * @param startPos     the absolute position of the first token
 * @param tokens       the tokens this forward call appends to the sequence
 * @param width        values per token row (per head and query row for PATTERN points)
 * @param promptLength the sequence's prompt length
 * @param heads        the heads of a HEADS or PATTERN point, 1 for ROWS points
 */
public record HookContext(HookName name, int startPos, int tokens, int width, int promptLength, int heads) {
    /**
     * A context of a {@link HookPoint.Layout#ROWS ROWS} point (one head).
     *
     * @param name         the hook point
     * @param startPos     the absolute position of the first token
     * @param tokens       the tokens of the call
     * @param width        values per token
     * @param promptLength the sequence's prompt length
     */
    public HookContext(HookName name, int startPos, int tokens, int width, int promptLength) {
        this(name, startPos, tokens, width, promptLength, 1);
    }

    /**
     * @param t a token row of the call
     * @return the absolute position of row {@code t}
     */
    public int position(int t) {
        return startPos + t;
    }

    /** @return the keys a query row of a PATTERN point covers: every position of the sequence so far, {@code startPos + tokens} */
    public int keys() {
        return startPos + tokens;
    }

    /** @return the values per head of a HEADS point ({@code d_head}) */
    public int headDim() {
        return width / heads;
    }

    /** @return how many floats the activations hold */
    public int size() {
        return tokens * width * (name.point().layout() == HookPoint.Layout.PATTERN ? heads : 1);
    }
}
