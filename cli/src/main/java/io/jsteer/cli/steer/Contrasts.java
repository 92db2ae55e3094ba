/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.io.PromptFiles;
import io.jsteer.steering.ContrastSet;

/** Contrast prompts from text to token ids. */
public final class Contrasts {
    private Contrasts() {}

    public static ContrastSet tokenize(PromptFiles.Contrast texts, LoadedModel m) {
        return new ContrastSet(texts.positive().stream().map(m::encode).toList(), texts.negative().stream().map(m::encode).toList());
    }

    /** Contrast prompts given directly as texts. */
    public static ContrastSet tokenize(java.util.List<String> positive, java.util.List<String> negative, LoadedModel m) {
        return new ContrastSet(positive.stream().map(m::encode).toList(), negative.stream().map(m::encode).toList());
    }
}
