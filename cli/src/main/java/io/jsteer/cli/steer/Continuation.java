/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.UserError;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.generate.Generation;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A generated continuation of a prompt, steered or not, as ids and text.
 *
 * @param tokens the generated ids (prompt excluded)
 * @param text   their text, special tokens left out
 * @param stop   why generation ended
 */
public record Continuation(int[] tokens, String text, Generator.Stop stop) {
    /**
     * Continues {@code prompt} with {@code steering} attached (null: unsteered). When
     * {@code stream} is given it receives the text as it grows, piece by piece (a piece is held back
     * while it ends in an incomplete UTF-8 sequence), or the token ids when there is no tokenizer.
     */
    public static Continuation generate(LoadedModel m, int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens,
                                        Intervention steering, Consumer<String> stream) {
        State state = m.model().newState();
        Hooks.Handle handle = steering == null ? null : steering.attach(state);
        try {
            int[] soFar = new int[Math.max(1, maxNewTokens)];
            int[] n = {0};
            int[] printed = {0};
            Generator.Listener listener = stream == null ? null : id -> {
                if (m.tokenizer() == null) {
                    stream.accept((n[0]++ == 0 ? "" : " ") + id);
                    return true;
                }
                soFar[n[0]++] = id;
                String text = m.decode(Arrays.copyOf(soFar, n[0]));
                if (!text.endsWith("\uFFFD") && text.length() > printed[0]) {
                    stream.accept(text.substring(printed[0]));
                    printed[0] = text.length();
                }
                return true;
            };
            Generator.Result r = new Generator(m.model()).generate(state, prompt, maxNewTokens, sampler, stopTokens, listener);
            String text = m.decode(r.tokens());
            if (stream != null && m.tokenizer() != null && text.length() > printed[0]) stream.accept(text.substring(printed[0]));
            return new Continuation(r.tokens(), text, r.stop());
        } finally {
            if (handle != null) handle.close();
        }
    }

    /** One continuation to generate with {@link #generateAll}: {@code steering} null for none. */
    public record Request(int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens, Intervention steering) {}

    /**
     * Generates every request, several sequences at a time ({@link BatchSize}); each continuation
     * is the one {@link #generate} gives alone. A request that fails (a prompt too long, say)
     * gets its failure in place of a continuation; the others are unaffected.
     */
    public static List<Outcome> generateAll(LoadedModel m, List<Request> requests) {
        Generator generator = new Generator(m.model());
        List<Outcome> out = new ArrayList<>(requests.size());
        List<Generation> run = new ArrayList<>();
        List<Integer> where = new ArrayList<>();
        int longest = 1;
        for (Request r : requests) {
            try {
                Generation g = generator.generation(r.prompt(), r.maxNewTokens(), r.sampler(), r.stopTokens(), null,
                        r.steering() == null ? null : r.steering()::attach);
                where.add(out.size());
                run.add(g);
                longest = Math.max(longest, r.prompt().length + r.maxNewTokens());
                out.add(null);
            } catch (IllegalArgumentException e) {
                out.add(new Outcome(null, e.getMessage()));
            }
        }
        Engine engine = new Engine(m.model(), BatchSize.current(m.model(), longest));
        run.forEach(engine::submit);
        while (engine.step()) {
            // each step advances every running continuation by one token
        }
        for (int i = 0; i < run.size(); i++) {
            Outcome o;
            try {
                Generator.Result r = run.get(i).result();
                o = new Outcome(new Continuation(r.tokens(), m.decode(r.tokens()), r.stop()), null);
            } catch (IllegalArgumentException | IllegalStateException e) {
                o = new Outcome(null, e.getMessage());
            }
            out.set(where.get(i), o);
        }
        return out;
    }

    /** A continuation, or why there is none. */
    public record Outcome(Continuation continuation, String error) {
        /** The continuation; throws the failure as a user error when there is none. */
        public Continuation get() {
            if (continuation == null) throw new UserError(error);
            return continuation;
        }
    }
}
