/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;

/**
 * One sequence being processed: its KV cache, its length, and its hooks. A {@link Model} is
 * immutable and shared; each concurrent sequence has its own state.
 */
public final class State {
    /**
     * Positions per block of the KV cache. The cache grows a block at a time and never moves:
     * one array per layer grown by doubling left its old copies as garbage and held both during
     * the copy: decoding 1024 positions of Pythia-160M BF16 peaked at 1.39 x (weights file + a
     * 75 MB cache), against 1.17 with blocks.
     */
    static final int BLOCK = 64;
    final int kvWidth, headDim;
    /**
     * {@code [layer][pos / BLOCK][(kvHead * BLOCK + pos % BLOCK) * headDim + i]}, blocks allocated
     * as positions arrive. Within a block each KV head's positions lie together, so attention
     * reads one head's keys front to back (see {@link #offset}).
     */
    final float[][][] keys;
    /** Same layout as {@link #keys}. */
    final float[][][] values;
    private final int maxPositions;
    private int length;
    private int promptLength = -1;
    private final Hooks hooks;

    State(int layers, int kvHeads, int headDim, int maxPositions, boolean hasResidMid, boolean gatedMlp) {
        this.kvWidth = kvHeads * headDim;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        this.keys = new float[layers][0][];
        this.values = new float[layers][0][];
        this.hooks = new Hooks(layers, hasResidMid, gatedMlp);
    }

    /** Where KV head {@code kvHead} of position {@code pos} starts in its block, {@code keys[layer][pos / BLOCK]}. */
    int offset(int kvHead, int pos) {
        return (kvHead * BLOCK + pos % BLOCK) * headDim;
    }

    /** Tokens processed so far (the position the next token will have). */
    public int length() {
        return length;
    }

    /** Length of the first chunk fed to this state, taken as the prompt; -1 before any. */
    public int promptLength() {
        return promptLength;
    }

    /** The hooks active for this sequence. */
    public Hooks hooks() {
        return hooks;
    }

    /** Forgets all tokens (hooks stay attached), so the state can be reused for a new prompt. */
    public void reset() {
        length = 0;
        promptLength = -1;
    }

    /**
     * Forgets every token but keeps {@link #promptLength()}, so the sequence so far (prompt and
     * generated tokens) can be fed again from position 0 in one call and its hooks still tell the
     * prompt from the generated tokens. Decoding does this for each new token when a hook asks it
     * to ({@link Hooks#recomputeEachToken()}).
     */
    public void restart() {
        length = 0;
    }

    /**
     * Forgets every token from position {@code length} on; the keys and values of the positions
     * before it stay cached, so decoding resumes from there: several continuations of one prompt
     * share its prefill. Positions taken back count as room again. When {@code length} cuts into
     * the prompt, the part kept becomes the prompt ({@link #promptLength()}) and tokens fed after
     * it count as generated. {@code truncate(0)} is {@link #reset()}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= length <= length()}
     */
    public void truncate(int length) {
        if (length < 0 || length > this.length) {
            throw new IllegalArgumentException("cannot truncate a sequence of " + this.length + " tokens to " + length);
        }
        this.length = length;
        if (length == 0) promptLength = -1;
        else if (length < promptLength) promptLength = length;
    }

    /** Fails unless {@code more} positions fit in the model's context. */
    void checkRoom(int more) {
        int need = length + more;
        if (need > maxPositions) {
            throw new IllegalArgumentException("sequence of " + need + " tokens exceeds the model's max_position_embeddings " + maxPositions);
        }
    }

    /** Makes room for {@code more} positions in the host KV cache, adding the blocks they need. */
    void reserve(int more) {
        checkRoom(more);
        int blocks = (length + more + BLOCK - 1) / BLOCK;
        for (int l = 0; l < keys.length; l++) {
            if (blocks > keys[l].length) {
                // only the table of blocks is copied, never the cache
                keys[l] = Arrays.copyOf(keys[l], Math.max(blocks, 2 * keys[l].length));
                values[l] = Arrays.copyOf(values[l], keys[l].length);
            }
            for (int b = length / BLOCK; b < blocks; b++) {
                if (keys[l][b] == null) {
                    keys[l][b] = new float[BLOCK * kvWidth];
                    values[l][b] = new float[BLOCK * kvWidth];
                }
            }
        }
    }

    void advance(int tokens) {
        if (promptLength < 0) promptLength = tokens;
        length += tokens;
    }
}
