/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.TokenIds;
import io.jsteer.cli.steer.LoadedModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** One prompt, as text ({@code --prompt}, tokenized) or as token ids ({@code --ids}). */
public final class PromptInput {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "Prompt text (needs a tokenizer).")
        String text;

        @Option(names = "--ids", paramLabel = "IDS", description = "Prompt as token ids, e.g. 1,2,3.")
        String ids;
    }

    /** The prompt's token ids. */
    public int[] tokens(LoadedModel m) {
        return m.checkIds(choice.ids != null ? TokenIds.parse(choice.ids) : m.encode(choice.text));
    }

    /** The prompt as shown to the user: the text, or the decoded ids. */
    public String display(LoadedModel m) {
        return choice.text != null ? choice.text : m.tokenizer() == null ? "[" + choice.ids + "]" : m.tokenizer().decode(tokens(m), false);
    }
}
