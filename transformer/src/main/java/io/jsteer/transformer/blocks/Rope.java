/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.blocks;

/**
 * Rotary position embedding, "rotate half" layout (GPT-NeoX and Gemma): within the first
 * {@code dims} entries of a head, entry {@code i} pairs with {@code i + dims/2} and the pair is
 * rotated by {@code pos * inv_freq[i]}, {@code inv_freq[i] = 1 / (base^(2i/dims) * scaling)}.
 */
public final class Rope {
    private final int dims;
    private final float[] invFreq;

    public Rope(int dims, double base, double scaling) {
        if (dims % 2 != 0) throw new IllegalArgumentException("rotary dims must be even, got " + dims);
        this.dims = dims;
        this.invFreq = new float[dims / 2];
        // float32, as HF computes them, so angles round the same way
        for (int i = 0; i < dims / 2; i++) invFreq[i] = (float) (1.0 / Math.pow(base, (2.0 * i) / dims) / scaling);
    }

    /** Rotates {@code heads} heads of width {@code headDim} starting at {@code x[off]} for position {@code pos}. */
    public void apply(float[] x, int off, int heads, int headDim, int pos) {
        int half = dims / 2;
        for (int i = 0; i < half; i++) {
            float angle = pos * invFreq[i];
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int o = off + h * headDim;
                float a = x[o + i], b = x[o + i + half];
                x[o + i] = a * cos - b * sin;
                x[o + i + half] = b * cos + a * sin;
            }
        }
    }
}
