/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.Prompt;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.transformer.Model;
import java.nio.file.Path;

/**
 * A model ready to run, with the tokenizer that goes with it when there is one.
 *
 * @param name      how the user named it ({@code default} or the folder)
 * @param dir       the checkpoint folder
 * @param tokenizer null when the folder has no {@code tokenizer.json} and none was given
 */
public record LoadedModel(String name, Path dir, Model model, Tokenizer tokenizer) {
    /** The tokenizer, or a precise error saying why {@code purpose} needs one. */
    public Tokenizer requireTokenizer(String purpose) {
        if (tokenizer == null) {
            throw new UserError(purpose + " needs a tokenizer: " + dir + " has no tokenizer.json; pass --tokenizer FILE"
                    + " (or give token ids with --ids where the command takes them)");
        }
        return tokenizer;
    }

    /** Token ids of {@code text}, framed with the special tokens the tokenizer adds (e.g. Gemma's {@code <bos>}). */
    public int[] encode(String text) {
        int[] ids = requireTokenizer("text input").encode(text, true);
        if (ids.length == 0) throw new UserError("the text '" + text + "' has no tokens");
        return ids;
    }

    /** Token ids of a prompt from a file: its ids as given, checked against the vocabulary, or its text encoded. */
    public int[] encode(Prompt p) {
        if (p.text() != null) return encode(p.text());
        return checkIds(p.ids());
    }

    /**
     * {@code ids} when the model and its tokenizer both know every one. A model's embedding is
     * often padded beyond the tokenizer's vocabulary (Pythia: 50,304 rows for 50,277 tokens); ids
     * in that padding have untrained rows and no text, so they are refused too.
     */
    public int[] checkIds(int[] ids) {
        int vocab = model.config().vocabSize();
        for (int id : ids) {
            if (id >= vocab) throw new UserError("token id " + id + " is outside the vocabulary of " + name + " [0, " + vocab + ")");
            if (tokenizer != null && id >= tokenizer.vocabSize()) {
                throw new UserError("token id " + id + " is not in the tokenizer's vocabulary [0, " + tokenizer.vocabSize() + "), though the model's embedding has "
                        + vocab + " rows (padding without a token)");
            }
        }
        return ids;
    }

    /** The text of generated ids, special tokens left out; ids joined by spaces when there is no tokenizer. */
    public String decode(int[] ids) {
        if (tokenizer == null) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) b.append(b.isEmpty() ? "" : " ").append(id);
            return "[" + b + "]";
        }
        return tokenizer.decode(ids, true);
    }
}
