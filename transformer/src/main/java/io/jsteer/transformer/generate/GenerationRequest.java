/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Generator.Listener;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What to generate: a prompt, how many tokens at most, how to choose them, when to stop early and
 * which steering to attach while generating. Built with named settings instead of positional
 * arguments; immutable, so one request can be run many times or changed with {@link #toBuilder()}.
 *
 * <pre>{@code
 * GenerationRequest plain = GenerationRequest.builder(tokenizer.encode("The old man walked to the"))
 *         .maxNewTokens(24)
 *         .build();                                  // greedy, no stop token, no steering
 * GenerationRequest steered = plain.toBuilder()
 *         .steering(caa::attach)                     // any Intervention's attach, or your own hooks
 *         .build();
 * Generator generator = new Generator(model);
 * String text = tokenizer.decode(generator.generate(steered).tokens());
 * }</pre>
 *
 * <p>A request gives the same tokens each time it runs: every run samples from a fresh copy of
 * the sampler. Defaults: {@value #DEFAULT_MAX_NEW_TOKENS} new tokens (as Hugging Face's {@code generate}),
 * {@link Sampler#greedy()}, no stop tokens, no listener, no steering.
 */
public final class GenerationRequest {
    /** The number of new tokens when {@link Builder#maxNewTokens} is not set. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 20;

    private final int[] prompt;
    private final int maxNewTokens;
    private final Sampler sampler;
    private final int[] stopTokens;
    private final Listener listener;
    private final List<Function<State, Hooks.Handle>> steering;

    private GenerationRequest(Builder b) {
        this.prompt = b.prompt.clone();
        this.maxNewTokens = b.maxNewTokens;
        this.sampler = b.sampler;
        this.stopTokens = b.stopTokens.clone();
        this.listener = b.listener;
        this.steering = List.copyOf(b.steering);
    }

    /**
     * A builder for continuing {@code prompt} (token ids, at least one).
     *
     * @param prompt the prompt's token ids, e.g. from {@code Tokenizer.encode}
     * @return a builder with the defaults
     */
    public static Builder builder(int[] prompt) {
        return new Builder(prompt);
    }

    /**
     * A builder holding this request's settings, to derive a changed request.
     *
     * @return a new builder; changing it leaves this request as it is
     */
    public Builder toBuilder() {
        Builder b = new Builder(prompt).maxNewTokens(maxNewTokens).sampler(sampler).stopTokens(stopTokens).listener(listener);
        b.steering.addAll(steering);
        return b;
    }

    /** @return the prompt's token ids (a copy) */
    public int[] prompt() {
        return prompt.clone();
    }

    /** @return the most tokens to generate */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /**
     * The sampler's settings. Each run of the request draws from a {@link Sampler#copy()} whose
     * random stream starts at the seed, so a request gives the same tokens every time it runs, and
     * a steered request derived with {@link #toBuilder()} draws the same random numbers as the
     * unsteered one.
     *
     * @return the sampler that chooses each token
     */
    public Sampler sampler() {
        return sampler;
    }

    /** @return the ids that end generation when chosen (a copy; they are not part of the output) */
    public int[] stopTokens() {
        return stopTokens.clone();
    }

    /** @return the listener that hears each token and may stop generation, or null */
    public Listener listener() {
        return listener;
    }

    /** @return the steering attachments, in the order they are attached */
    public List<Function<State, Hooks.Handle>> steering() {
        return steering;
    }

    /**
     * All steering attachments as one: attaches each in order, and the returned handle detaches
     * them in reverse order. Null when there is no steering.
     */
    Function<State, Hooks.Handle> attachAll() {
        if (steering.isEmpty()) return null;
        return state -> {
            List<Hooks.Handle> handles = new ArrayList<>(steering.size());
            try {
                for (Function<State, Hooks.Handle> s : steering) handles.add(s.apply(state));
            } catch (RuntimeException e) {
                closeAll(handles);
                throw e;
            }
            return () -> closeAll(handles);
        };
    }

    private static void closeAll(List<Hooks.Handle> handles) {
        for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
    }

    /** Collects the settings of a {@link GenerationRequest}; {@link #build()} checks them. */
    public static final class Builder {
        private final int[] prompt;
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private Sampler sampler = Sampler.greedy();
        private int[] stopTokens = new int[0];
        private Listener listener;
        private final List<Function<State, Hooks.Handle>> steering = new ArrayList<>();

        private Builder(int[] prompt) {
            if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("generation needs a prompt of at least one token");
            this.prompt = prompt.clone();
        }

        /**
         * @param n the most tokens to generate (0 generates none)
         * @return this builder
         */
        public Builder maxNewTokens(int n) {
            if (n < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + n);
            this.maxNewTokens = n;
            return this;
        }

        /**
         * @param sampler chooses each token, e.g. {@code Sampler.greedy()} or
         *                {@code new Sampler(0.8, 40, 0.95, seed)}
         * @return this builder
         */
        public Builder sampler(Sampler sampler) {
            if (sampler == null) throw new IllegalArgumentException("sampler must not be null; Sampler.greedy() takes the argmax");
            this.sampler = sampler;
            return this;
        }

        /**
         * @param ids token ids that end generation when chosen (e.g. the tokenizer's end-of-text
         *            id); replaces any given before
         * @return this builder
         */
        public Builder stopTokens(int... ids) {
            this.stopTokens = ids == null ? new int[0] : ids.clone();
            return this;
        }

        /**
         * @param listener hears each generated token as it is chosen (to stream text) and ends
         *                 generation by returning false; null for none
         * @return this builder
         */
        public Builder listener(Listener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * Adds steering attached to the sequence while it is generated and detached after, e.g.
         * {@code caa::attach} for a fitted intervention, or
         * {@code state -> state.hooks().add(name, hook)} for a hook of your own. Several compose in
         * the order added.
         *
         * @param attach attaches hooks to the sequence's state and returns the handle that detaches them
         * @return this builder
         */
        public Builder steering(Function<State, Hooks.Handle> attach) {
            if (attach == null) throw new IllegalArgumentException("steering must not be null");
            steering.add(attach);
            return this;
        }

        /** Removes all steering added so far (to derive an unsteered request from a steered one). */
        public Builder noSteering() {
            steering.clear();
            return this;
        }

        /** @return the request */
        public GenerationRequest build() {
            return new GenerationRequest(this);
        }
    }
}
