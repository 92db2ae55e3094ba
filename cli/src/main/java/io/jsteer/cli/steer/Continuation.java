/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
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
}
