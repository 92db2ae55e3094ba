package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hooks;
import java.util.SplittableRandom;

/**
 * Continuations of a prompt with the KV cache, steered or not, for behaviour scores and for the
 * example generations shown in reports.
 */
public final class Continuations {
    private Continuations() {}

    /** Sees each step's next-token logits (only valid during the call) before a token is chosen. */
    @FunctionalInterface
    public interface StepObserver {
        void step(int step, float[] logits);
    }

    /**
     * The {@code decoding.maxNewTokens()} token ids following {@code prompt} on a fresh state with
     * {@code steering} attached ({@code null}: unsteered). {@code item} picks the random stream
     * when sampling; use the same value for the runs you compare.
     */
    public static int[] generate(Model model, Intervention steering, int[] prompt, Decoding decoding, int item) {
        State state = model.newState();
        Hooks.Handle handle = steering == null ? null : steering.attach(state);
        try {
            return generate(model, state, prompt, decoding, item, (s, l) -> {});
        } finally {
            if (handle != null) handle.close();
        }
    }

    /** Continues {@code prompt} on an empty {@code state} (hooks as attached), reporting each step's logits. */
    static int[] generate(Model model, State state, int[] prompt, Decoding decoding, int item, StepObserver observer) {
        int need = prompt.length + decoding.maxNewTokens() - 1;
        if (need > model.config().maxPositions()) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens plus " + decoding.maxNewTokens()
                    + " new tokens exceeds the model's max_position_embeddings " + model.config().maxPositions());
        }
        SplittableRandom random = decoding.greedy() ? null : new SplittableRandom(decoding.seed() + 0x9E3779B97F4A7C15L * item);
        int[] out = new int[decoding.maxNewTokens()];
        float[] logits = model.forward(state, prompt, false);
        for (int step = 0; step < out.length; step++) {
            observer.step(step, logits);
            out[step] = random == null ? argmax(logits) : sample(logits, decoding.temperature(), random);
            // the last token is chosen but never fed back: its successor is not needed
            if (step + 1 < out.length) logits = model.forward(state, new int[] {out[step]}, false);
        }
        return out;
    }

    /** Index of the largest logit, the first one on ties. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** A draw from {@code softmax(logits / temperature)} by inverting the cumulative distribution. */
    static int sample(float[] logits, double temperature, SplittableRandom random) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] w = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            w[i] = Math.exp((logits[i] - max) / temperature);
            sum += w[i];
        }
        double u = random.nextDouble() * sum;
        int last = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] == 0) continue;
            u -= w[i];
            if (u < 0) return i;
            last = i;
        }
        return last; // u ran past the end by rounding
    }
}
