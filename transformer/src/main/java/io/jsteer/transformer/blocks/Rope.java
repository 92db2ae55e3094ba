/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.blocks;

import io.jsteer.weights.RopeScaling;

/**
 * Rotary position embedding, "rotate half" layout (GPT-NeoX, Gemma, Llama, Mistral, Qwen): within
 * the first {@code dims} entries of a head, entry {@code i} pairs with {@code i + dims/2} and the
 * pair is rotated by {@code pos * inv_freq[i]}, {@code inv_freq[i] = base^(-2i/dims)}, scaled as
 * {@code rope_scaling} says:
 * <ul>
 * <li>linear (position interpolation, Chen et al. 2023): {@code inv_freq / factor};
 * <li>llama3 (Llama 3.1's long-context recipe, {@code _compute_llama3_parameters} in Hugging Face's
 *     {@code modeling_rope_utils.py}): with wavelength {@code w = 2 pi / inv_freq} and the
 *     pre-training context {@code L}, frequencies with {@code w > L / low_freq_factor} are divided
 *     by {@code factor}, those with {@code w < L / high_freq_factor} are kept, and those between
 *     are blended: {@code (1 - s) inv_freq / factor + s inv_freq},
 *     {@code s = (L / w - low_freq_factor) / (high_freq_factor - low_freq_factor)};
 * <li>factors (a llama.cpp model file's {@code rope_freqs.weight}, which its converter computes
 *     from llama3 scaling): {@code inv_freq[i] / factors[i]} (ggml divides the angle
 *     {@code pos * inv_freq[i]} by the factor instead, which differs only in rounding).
 * </ul>
 * This is the one place where a config's base and scaling become inverse frequencies (the GPU
 * backend takes them from {@link #inverseFrequencies()}).
 */
public final class Rope {
    private final int dims;
    private final float[] invFreq;

    /** Linear scaling by {@code scaling} (1 for none). */
    public Rope(int dims, double base, double scaling) {
        this(dims, base, scaling == 1 ? RopeScaling.NONE : RopeScaling.linear(scaling));
    }

    /** Rotary embedding of the first {@code dims} dimensions of each head at base {@code base}, frequencies changed by {@code scaling}. */
    public Rope(int dims, double base, RopeScaling scaling) {
        if (dims % 2 != 0) throw new IllegalArgumentException("rotary dims must be even, got " + dims);
        float[] factors = scaling.frequencyFactors();
        if (scaling.type() == RopeScaling.Type.FACTORS && factors.length != dims / 2) {
            throw new IllegalArgumentException(factors.length + " RoPE frequency factors for " + dims / 2 + " rotated pairs");
        }
        this.dims = dims;
        this.invFreq = new float[dims / 2];
        // float32, as HF computes them, so angles round the same way
        for (int i = 0; i < dims / 2; i++) invFreq[i] = scaled((float) (1.0 / Math.pow(base, (2.0 * i) / dims)), i, scaling, factors);
    }

    /** The inverse frequencies of the rotated pairs, after {@code rope_scaling} (a copy): for backends that rotate elsewhere. */
    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** Inverse frequency {@code i} after {@code rope_scaling}, in float32 like HF's tensors. */
    private static float scaled(float inv, int i, RopeScaling s, float[] factors) {
        float factor = (float) s.factor();
        return switch (s.type()) {
            case NONE -> inv;
            case FACTORS -> inv / factors[i];
            case LINEAR -> inv / factor;
            case LLAMA3 -> {
                float low = (float) s.lowFreqFactor(), high = (float) s.highFreqFactor(), context = s.originalMaxPositions();
                float wavelen = (float) (2 * Math.PI) / inv;
                if (wavelen < context / high) yield inv;
                if (wavelen > context / low) yield inv / factor;
                float smooth = (context / wavelen - low) / (high - low);
                yield (1 - smooth) * inv / factor + smooth * inv;
            }
        };
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
