package io.jsteer.steering.eval;

/**
 * How continuations are produced: {@code maxNewTokens} tokens, greedy when {@code temperature}
 * is 0, else sampled from {@code softmax(logits / temperature)} with a generator seeded from
 * {@code seed} and the prompt's index, so steered and unsteered runs of the same prompt draw the
 * same random numbers (common random numbers make their difference less noisy). Generation
 * never stops early: every prompt contributes the same number of steps.
 */
public record Decoding(int maxNewTokens, double temperature, long seed) {
    public Decoding {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
    }

    /** Greedy (argmax) decoding of {@code maxNewTokens} tokens. */
    public static Decoding greedy(int maxNewTokens) {
        return new Decoding(maxNewTokens, 0, 0);
    }

    /** Sampling at {@code temperature} (> 0) with a fixed seed. */
    public static Decoding sampled(int maxNewTokens, double temperature, long seed) {
        if (!(temperature > 0)) throw new IllegalArgumentException("sampling temperature must be > 0, got " + temperature);
        return new Decoding(maxNewTokens, temperature, seed);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
