/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Autoregressive generation with the KV cache: the prompt is fed in one forward call (prefill),
 * then each chosen token is fed alone, so every step costs one position. Hooks attached to the
 * state (steering) act during both phases. While a hook asks for it
 * ({@link io.jsteer.transformer.hooks.Hooks#recomputeEachToken()}), each step instead runs the whole
 * sequence again from position 0, without the cache.
 *
 * <pre>{@code
 * Generator generator = new Generator(model);
 * Generator.Result r = generator.generate(GenerationRequest.builder(prompt).maxNewTokens(30).build());
 * int[] continuation = r.tokens();                 // r.stop() says why it ended
 * }</pre>
 * See {@link GenerationRequest} for sampling, stop tokens and steering.
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
        /** Hears token {@code id}, just chosen; returns whether to go on. */
        boolean token(int id);
    }

    private final Model model;

    /** A generator for {@code model}; it keeps no state between calls, so one can serve many. */
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
        return run(state, generation(prompt, maxNewTokens, sampler, stopTokens, listener, null));
    }

    /**
     * Generates what {@code request} asks on a fresh state; its steering is attached for the
     * call and detached after.
     *
     * @param request prompt, length, sampler, stop conditions and steering
     * @return the generated tokens and why generation ended
     */
    public Result generate(GenerationRequest request) {
        return generate(model.newState(), request);
    }

    /**
     * Generates what {@code request} asks on {@code state}, which must be empty: hooks already
     * attached to it (to read activations, say) stay attached and see the whole sequence; the
     * request's steering is attached after them for the call and detached after.
     *
     * @param state   an empty state of this generator's model
     * @param request prompt, length, sampler, stop conditions and steering
     * @return the generated tokens and why generation ended
     */
    public Result generate(State state, GenerationRequest request) {
        return run(state, generation(request));
    }

    /**
     * The request as a {@link Generation} of this model, to run with others in {@link #generateAll}.
     *
     * @param request prompt, length, sampler, stop conditions and steering
     * @return a generation whose {@link Generation#result()} is ready once it has run
     */
    public Generation generation(GenerationRequest request) {
        model.checkPrompt(request.prompt(), "the prompt");
        return new Generation(request.prompt(), request.maxNewTokens(), request.sampler().copy(), request.stopTokens(), request.listener(),
                request.attachAll(), model.config().maxPositions(), model.config().vocabSize());
    }

    private Result run(State state, Generation g) {
        if (state.length() != 0) throw new IllegalArgumentException("generation needs a fresh state; this one already holds " + state.length() + " tokens");
        if (g.empty()) return g.result();
        g.start(state);
        try {
            int[] sequence = g.prompt();
            float[] logits = model.forward(state, sequence, false);
            for (int next = g.next(logits); next != Job.END; next = g.next(logits)) {
                if (state.hooks().recomputesEachToken()) {
                    sequence = Arrays.copyOf(sequence, sequence.length + 1);
                    sequence[sequence.length - 1] = next;
                    state.restart();
                    logits = model.forward(state, sequence, false);
                } else {
                    logits = model.forward(state, new int[] {next}, false);
                }
            }
        } catch (RuntimeException e) {
            g.end(e);
            throw e;
        }
        g.end(null);
        return g.result();
    }

    /** Continues {@code prompt} on a fresh state without hooks. */
    public Result generate(int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens) {
        return generate(model.newState(), prompt, maxNewTokens, sampler, stopTokens, null);
    }

    /**
     * Runs every generation, up to {@code batchSize} sequences at once (see {@link Engine}); each
     * one's result is the same as alone. Their {@link Generation#result()}s are ready on return;
     * the first failure, in list order, is thrown after all have run.
     */
    public void generateAll(List<Generation> generations, int batchSize) {
        List<Generation> work = generations.stream().filter(g -> !g.empty()).toList();
        new Engine(model, batchSize).run(work);
    }

    /** A generation of this model (its context and vocabulary filled in); {@code steering} may be null. */
    public Generation generation(int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens, Listener listener, Function<State, Hooks.Handle> steering) {
        model.checkPrompt(prompt, "the prompt");
        return new Generation(prompt, maxNewTokens, sampler, stopTokens, listener, steering, model.config().maxPositions(), model.config().vocabSize());
    }
}
