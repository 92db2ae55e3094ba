/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token from a row of logits: greedy (argmax), or a draw from the softmax at a
 * temperature, optionally restricted to the {@code topK} most likely tokens and then to the
 * nucleus of {@code topP} (Holtzman et al., "The Curious Case of Neural Text Degeneration", 2020):
 * the smallest set of most likely tokens whose probability mass is at least {@code topP}.
 * The filters apply in the order Hugging Face's {@code generate} uses: temperature, top-k, top-p.
 *
 * <p>A sampler owns a random stream seeded at construction, so the same seed and the same logits
 * give the same tokens; {@link #copy()} restarts the stream, which lets a steered and an unsteered
 * run draw the same random numbers. Not thread-safe.
 */
public final class Sampler {
    private final double temperature;
    private final int topK;
    private final double topP;
    private final long seed;
    private SplittableRandom random;

    /**
     * @param temperature 0 for greedy decoding, else the softmax temperature (> 0)
     * @param topK        keep only the {@code topK} most likely tokens; 0 keeps all
     * @param topP        keep the smallest most-likely set with mass {@code >= topP}; 1 keeps all
     * @param seed        seed of the random stream (ignored when greedy)
     */
    public Sampler(double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1] (1 = off), got " + topP);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /** Greedy decoding: always the most likely token (the lowest id among equal logits). */
    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 0);
    }

    /** Whether this sampler always takes the argmax. */
    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    /** A sampler with the same settings whose random stream starts again from the seed. */
    public Sampler copy() {
        return new Sampler(temperature, topK, topP, seed);
    }

    /** The next token for {@code logits[from .. from + vocab)}. */
    public int next(float[] logits, int from, int vocab) {
        if (isGreedy()) return argmax(logits, from, vocab);
        double[] p = distribution(logits, from, vocab);
        double u = random.nextDouble();
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) continue;
            u -= p[i];
            if (u < 0) return i;
            last = i;
        }
        return last; // u ran past the end by rounding: take the last kept token
    }

    /** The next token for a row of logits. */
    public int next(float[] logits) {
        return next(logits, 0, logits.length);
    }

    /**
     * The probabilities this sampler draws from: {@code softmax(logits / temperature)} with the
     * tokens outside the top-k and the top-p nucleus set to 0, renormalised. For a greedy sampler
     * it is the one-hot of the argmax.
     */
    public double[] distribution(float[] logits, int from, int vocab) {
        if (vocab < 1 || from < 0 || from + vocab > logits.length) throw new IllegalArgumentException("logit range [" + from + ", " + (from + vocab) + ") is outside an array of " + logits.length);
        double[] p = new double[vocab];
        if (isGreedy()) {
            p[argmax(logits, from, vocab)] = 1;
            return p;
        }
        float max = logits[from + argmax(logits, from, vocab)];
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            p[i] = Math.exp((logits[from + i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < vocab; i++) p[i] /= sum;
        if (topK == 0 && topP == 1) return p;

        int[] order = byDescendingLogit(logits, from, vocab);
        int keep = topK == 0 ? vocab : Math.min(topK, vocab);
        double kept = 0;
        for (int r = 0; r < keep; r++) kept += p[order[r]];
        if (topP < 1) {
            // renormalised over the top-k survivors, as HF applies top-p to top-k's output
            double mass = 0;
            int r = 0;
            while (r < keep) {
                mass += p[order[r]] / kept;
                r++;
                if (mass >= topP) break;
            }
            keep = r;
        }
        double[] out = new double[vocab];
        double total = 0;
        for (int r = 0; r < keep; r++) total += p[order[r]];
        for (int r = 0; r < keep; r++) out[order[r]] = p[order[r]] / total;
        return out;
    }

    /** Index (relative to {@code from}) of the largest logit, the first one on ties. */
    public static int argmax(float[] logits, int from, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[from + i] > logits[from + best]) best = i;
        return best;
    }

    /**
     * Token indices sorted by decreasing logit, ties by increasing index. Packing the logit's
     * order-preserving bits and the index into one long sorts without boxing.
     */
    private static int[] byDescendingLogit(float[] logits, int from, int vocab) {
        long[] keys = new long[vocab];
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToIntBits(logits[from + i]);
            int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // signed int order == float order
            keys[i] = ((long) ~ordered << 32) | i;            // ascending keys == descending logits
        }
        Arrays.sort(keys);
        int[] order = new int[vocab];
        for (int i = 0; i < vocab; i++) order[i] = (int) keys[i];
        return order;
    }

    @Override
    public String toString() {
        if (isGreedy()) return "greedy";
        return "temperature " + temperature + (topK > 0 ? ", top-k " + topK : "") + (topP < 1 ? ", top-p " + topP : "") + ", seed " + seed;
    }
}
