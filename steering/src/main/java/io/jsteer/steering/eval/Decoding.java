/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.transformer.generate.Sampler;

/**
 * How continuations are produced: exactly {@code maxNewTokens} tokens (no early stop, so every
 * prompt contributes the same number of steps), chosen by a {@link Sampler} with these settings.
 * Each prompt gets its own random stream, seeded from {@code seed} and the prompt's index, and the
 * steered and unsteered runs of a prompt draw the same random numbers: common random numbers make
 * their difference less noisy.
 *
 * @param temperature 0 for greedy decoding, else the softmax temperature
 * @param topK        keep only the {@code topK} most likely tokens; 0 keeps all
 * @param topP        nucleus mass; 1 keeps all
 */
public record Decoding(int maxNewTokens, double temperature, int topK, double topP, long seed) {
    public Decoding {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        new Sampler(temperature, topK, topP, seed); // validates the sampling settings
    }

    /** Greedy (argmax) decoding of {@code maxNewTokens} tokens. */
    public static Decoding greedy(int maxNewTokens) {
        return new Decoding(maxNewTokens, 0, 0, 1, 0);
    }

    /** Plain sampling at {@code temperature} (> 0) with a fixed seed. */
    public static Decoding sampled(int maxNewTokens, double temperature, long seed) {
        if (!(temperature > 0)) throw new IllegalArgumentException("sampling temperature must be > 0, got " + temperature);
        return new Decoding(maxNewTokens, temperature, 0, 1, seed);
    }

    /** The sampler for prompt {@code item}, its random stream at the start. */
    public Sampler sampler(int item) {
        // golden-ratio stride spreads neighbouring items' seeds over the whole long range
        return new Sampler(temperature, topK, topP, seed + 0x9E3779B97F4A7C15L * item);
    }
}
