/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.steer.Contrasts;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.ContrastSet;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Contrastive prompts for fitting a method: one JSONL file of pairs, or two prompt files. */
public final class ContrastOptions {
    @Option(names = "--contrast", paramLabel = "FILE.jsonl",
            description = "Contrast pairs, one {\"positive\": \"...\", \"negative\": \"...\"} per line.")
    Path contrast;

    @Option(names = "--positive", paramLabel = "FILE", description = "Positive prompts, one per line (with --negative).")
    Path positive;

    @Option(names = "--negative", paramLabel = "FILE", description = "Negative prompts, one per line (with --positive).")
    Path negative;

    /** Whether any contrast data was given. */
    public boolean given() {
        return contrast != null || positive != null || negative != null;
    }

    /** The prompts as text; {@code purpose} names what needs them in the error when none were given. */
    public PromptFiles.Contrast texts(String purpose) {
        if (contrast != null) {
            if (positive != null || negative != null) throw new UserError("give either --contrast or --positive/--negative, not both");
            return PromptFiles.contrast(contrast);
        }
        if (positive == null || negative == null) {
            if (positive != null || negative != null) throw new UserError("--positive and --negative go together");
            throw new UserError(purpose + " needs contrast prompts: --contrast FILE.jsonl or --positive FILE --negative FILE");
        }
        return PromptFiles.contrast(positive, negative);
    }

    /** The prompts tokenized for {@code m}. */
    public ContrastSet set(LoadedModel m, String purpose) {
        return Contrasts.tokenize(texts(purpose), m);
    }
}
