/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * How the rotary frequencies of a model are changed: the {@code rope_scaling} entry of config.json,
 * as Hugging Face's rope initialisation functions ({@code modeling_rope_utils.py}) read it, or the
 * per-dimension factors of a llama.cpp model file ({@code rope_freqs.weight}, what llama.cpp's
 * converter makes of Llama 3.1's {@code rope_scaling}). Only the types that change nothing but the
 * inverse frequencies, with an attention factor of one, are supported.
 *
 * @param type                  {@link Type#NONE} (no entry, or {@code "default"}), {@link Type#LINEAR}, {@link Type#LLAMA3} or {@link Type#FACTORS}
 * @param factor                linear and llama3: low frequencies are divided by it (1 for none and factors)
 * @param lowFreqFactor         llama3: wavelengths above {@code originalMaxPositions / lowFreqFactor} are divided by {@code factor}
 * @param highFreqFactor        llama3: wavelengths below {@code originalMaxPositions / highFreqFactor} are kept
 * @param originalMaxPositions  llama3: the context length the model was pre-trained with
 * @param frequencyFactors      factors: inverse frequency {@code i} is divided by element {@code i}; empty for the other types
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions, float[] frequencyFactors) {
    /** How the rotary frequencies are changed. */
    public enum Type {
        /** Unchanged. */
        NONE,
        /** Every inverse frequency divided by {@code factor} (position interpolation). */
        LINEAR,
        /** Llama 3.1's: low frequencies divided by {@code factor}, high ones kept, a smooth ramp between. */
        LLAMA3,
        /** llama.cpp's {@code rope_freqs}: inverse frequency {@code i} divided by its own factor. */
        FACTORS
    }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 0, 0, 0);

    /** Copies {@code frequencyFactors}, so the scaling cannot change after it is made. */
    public RopeScaling {
        frequencyFactors = frequencyFactors.clone();
    }

    /** A scaling without per-dimension factors. */
    public RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        this(type, factor, lowFreqFactor, highFreqFactor, originalMaxPositions, new float[0]);
    }

    /** Position interpolation: every inverse frequency divided by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    /** Inverse frequency {@code i} divided by {@code factors[i]}, as llama.cpp applies {@code rope_freqs.weight}. */
    public static RopeScaling factors(float[] factors) {
        return new RopeScaling(Type.FACTORS, 1, 0, 0, 0, factors);
    }

    /** The per-dimension factors (a copy; empty unless {@link Type#FACTORS}). */
    @Override
    public float[] frequencyFactors() {
        return frequencyFactors.clone();
    }

    /** Equal when every component is, the factors element by element. */
    @Override
    public boolean equals(Object o) {
        return o instanceof RopeScaling r && type == r.type && Double.compare(factor, r.factor) == 0
                && Double.compare(lowFreqFactor, r.lowFreqFactor) == 0 && Double.compare(highFreqFactor, r.highFreqFactor) == 0
                && originalMaxPositions == r.originalMaxPositions && Arrays.equals(frequencyFactors, r.frequencyFactors);
    }

    /** A hash consistent with {@link #equals}. */
    @Override
    public int hashCode() {
        return 31 * Objects.hash(type, factor, lowFreqFactor, highFreqFactor, originalMaxPositions) + Arrays.hashCode(frequencyFactors);
    }

    /** The components, the factors listed. */
    @Override
    public String toString() {
        return "RopeScaling[type=" + type + ", factor=" + factor + ", lowFreqFactor=" + lowFreqFactor + ", highFreqFactor=" + highFreqFactor
                + ", originalMaxPositions=" + originalMaxPositions + ", frequencyFactors=" + Arrays.toString(frequencyFactors) + "]";
    }
}
