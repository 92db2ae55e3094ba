/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

/**
 * The {@code rope_scaling} entry of config.json, as Hugging Face's rope initialisation functions
 * ({@code modeling_rope_utils.py}) read it. Only the types that change nothing but the inverse
 * frequencies, with an attention factor of one, are supported.
 *
 * @param type                  {@link Type#NONE} (no entry, or {@code "default"}), {@link Type#LINEAR} or {@link Type#LLAMA3}
 * @param factor                linear and llama3: low frequencies are divided by it (1 for none)
 * @param lowFreqFactor         llama3: wavelengths above {@code originalMaxPositions / lowFreqFactor} are divided by {@code factor}
 * @param highFreqFactor        llama3: wavelengths below {@code originalMaxPositions / highFreqFactor} are kept
 * @param originalMaxPositions  llama3: the context length the model was pre-trained with
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    /** How the rotary frequencies are changed. */
    public enum Type {
        /** Unchanged. */
        NONE,
        /** Every inverse frequency divided by {@code factor} (position interpolation). */
        LINEAR,
        /** Llama 3.1's: low frequencies divided by {@code factor}, high ones kept, a smooth ramp between. */
        LLAMA3
    }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 0, 0, 0);

    /** Position interpolation: every inverse frequency divided by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }
}
