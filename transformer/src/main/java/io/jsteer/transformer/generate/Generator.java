package io.jsteer.transformer.generate;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import java.util.Arrays;

/**
 * Autoregressive generation with the KV cache: the prompt is fed in one forward call (prefill),
 * then each chosen token is fed alone, so every step costs one position. Hooks attached to the
 * state (steering) act during both phases.
 */
public final class Generator {
    /** Why generation ended. */
    public enum Stop {
        /** {@code maxNewTokens} tokens were generated. */
        MAX_TOKENS,
        /** A stop token was chosen (it is not part of the output). */
        STOP_TOKEN,
        /** The sequence reached the model's {@code max_position_embeddings}. */
        CONTEXT_FULL,
        /** The listener asked to stop. */
        LISTENER
    }

    /** The generated token ids (prompt and stop token excluded) and why generation ended. */
    public record Result(int[] tokens, Stop stop) {
        @Override
        public int[] tokens() {
            return tokens.clone();
        }
    }

    /** Hears each generated token as it is chosen; returning false ends generation after it. */
    @FunctionalInterface
    public interface Listener {
        boolean token(int id);
    }

    private final Model model;

    public Generator(Model model) {
        if (model == null) throw new IllegalArgumentException("generator needs a model");
        this.model = model;
    }

    /**
     * Continues {@code prompt} on {@code state}, which must be empty; hooks already attached to it
     * stay attached. At most {@code maxNewTokens} tokens are chosen by {@code sampler}; generation
     * stops early at any id in {@code stopTokens} or when the context is full.
     */
    public Result generate(State state, int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens, Listener listener) {
        if (state.length() != 0) throw new IllegalArgumentException("generation needs a fresh state; this one already holds " + state.length() + " tokens");
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("generation needs a prompt of at least one token");
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        int context = model.config().maxPositions();
        if (prompt.length > context) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens exceeds the model's max_position_embeddings " + context);
        }
        int vocab = model.config().vocabSize();
        int[] stops = stopTokens == null ? new int[0] : stopTokens.clone();
        Arrays.sort(stops);

        int[] out = new int[maxNewTokens];
        int n = 0;
        if (maxNewTokens == 0) return new Result(out, Stop.MAX_TOKENS);
        float[] logits = model.forward(state, prompt, false);
        while (true) {
            int next = sampler.next(logits, 0, vocab);
            if (Arrays.binarySearch(stops, next) >= 0) return new Result(Arrays.copyOf(out, n), Stop.STOP_TOKEN);
            out[n++] = next;
            if (listener != null && !listener.token(next)) return new Result(Arrays.copyOf(out, n), Stop.LISTENER);
            if (n == maxNewTokens) return new Result(out, Stop.MAX_TOKENS);
            if (state.length() == context) return new Result(Arrays.copyOf(out, n), Stop.CONTEXT_FULL);
            logits = model.forward(state, new int[] {next}, false);
        }
    }

    /** Continues {@code prompt} on a fresh state without hooks. */
    public Result generate(int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens) {
        return generate(model.newState(), prompt, maxNewTokens, sampler, stopTokens, null);
    }
}
