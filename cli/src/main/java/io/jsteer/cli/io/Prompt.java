/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * One prompt from an input file: text to be tokenized, or token ids given directly (which works
 * for models without a tokenizer and pins the exact tokens).
 */
public record Prompt(String text, int[] ids) {
    public Prompt {
        if ((text == null) == (ids == null)) throw new IllegalArgumentException("a prompt is either text or token ids");
        if (ids != null) ids = ids.clone();
    }

    public static Prompt of(String text) {
        return new Prompt(text, null);
    }

    public static Prompt ofIds(int... ids) {
        return new Prompt(null, ids);
    }

    @Override
    public int[] ids() {
        return ids == null ? null : ids.clone();
    }

    /** The text, or the ids as {@code [1, 2, 3]}. */
    public String label() {
        return text != null ? text : Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
