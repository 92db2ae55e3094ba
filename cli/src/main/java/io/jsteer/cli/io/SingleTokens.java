/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import io.jsteer.cli.UserError;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.tokenizer.Tokenizer;

/**
 * Tokens named on the command line for the analysis commands: texts that must each be one token
 * ({@code " Paris, London"}: split at commas, spaces kept, so {@code " Paris"} is the word after a
 * space), or ids; and tokens shown back as text.
 */
public final class SingleTokens {
    private SingleTokens() {}

    /** The ids of comma-separated texts, each one token of the model's tokenizer; {@code option} names the flag in errors. */
    public static int[] texts(LoadedModel m, String option, String texts) {
        Tokenizer tok = m.requireTokenizer(option);
        String[] parts = texts.split(",", -1);
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) throw new UserError(option + " '" + texts + "': token " + (i + 1) + " is empty");
            int[] enc = tok.encode(parts[i]);
            if (enc.length != 1) {
                throw new UserError(option + ": '" + parts[i] + "' is " + enc.length + " tokens" + (enc.length > 1 ? " (" + labels(m, enc) + ")" : "")
                        + "; each must be a single token (a leading space is part of the token: \" Paris\" differs from \"Paris\")");
            }
            ids[i] = enc[0];
        }
        return m.checkIds(ids);
    }

    /** Ids given as {@code 1,2,3}, checked against the vocabulary; {@code option} names the flag in errors. */
    public static int[] ids(LoadedModel m, String option, String ids) {
        try {
            return m.checkIds(TokenIds.parse(ids));
        } catch (UserError e) {
            throw new UserError(e.getMessage().replace("--ids", option));
        }
    }

    /** The text of one token as the tokenizer decodes it alone (special tokens included), or {@code #id} without a tokenizer. */
    public static String label(LoadedModel m, int id) {
        return m.tokenizer() == null ? "#" + id : m.tokenizer().decode(new int[] {id}, false);
    }

    private static String labels(LoadedModel m, int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) b.append(b.isEmpty() ? "" : " + ").append('"').append(label(m, id)).append('"');
        return b.toString();
    }
}
