package io.jsteer.transformer;

import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;

/**
 * One sequence being processed: its KV cache, its length, and its hooks. A {@link Model} is
 * immutable and shared; each concurrent sequence has its own state.
 */
public final class State {
    final int kvWidth;
    final float[][] keys;   // [layer][pos * kvWidth + kvHead * headDim + i]
    final float[][] values; // same layout as keys
    private final int maxPositions;
    private int length;
    private int promptLength = -1;
    private final Hooks hooks;

    State(int layers, int kvWidth, int maxPositions, boolean hasResidMid) {
        this.kvWidth = kvWidth;
        this.maxPositions = maxPositions;
        this.keys = new float[layers][];
        this.values = new float[layers][];
        this.hooks = new Hooks(layers, hasResidMid);
        for (int l = 0; l < layers; l++) {
            keys[l] = new float[0];
            values[l] = new float[0];
        }
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

    /** Fails unless {@code more} positions fit in the model's context. */
    void checkRoom(int more) {
        int need = length + more;
        if (need > maxPositions) {
            throw new IllegalArgumentException("sequence of " + need + " tokens exceeds the model's max_position_embeddings " + maxPositions);
        }
    }

    /** Makes room for {@code more} positions in the host KV cache, growing it geometrically. */
    void reserve(int more) {
        checkRoom(more);
        int need = length + more;
        if ((long) need * kvWidth <= keys[0].length) return;
        int cap = Math.min(maxPositions, Math.max(need, Math.max(16, 2 * keys[0].length / Math.max(1, kvWidth))));
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Arrays.copyOf(keys[l], cap * kvWidth);
            values[l] = Arrays.copyOf(values[l], cap * kvWidth);
        }
    }

    void advance(int tokens) {
        if (promptLength < 0) promptLength = tokens;
        length += tokens;
    }
}
