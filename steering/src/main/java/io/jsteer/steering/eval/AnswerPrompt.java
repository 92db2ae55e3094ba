/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

/**
 * A held-out prompt whose next token should be {@code target} under the steered behaviour and
 * {@code counter} under its opposite (e.g. {@code " A"} vs {@code " B"} after a multiple-choice
 * question).
 */
public record AnswerPrompt(int[] prompt, int target, int counter) {
    public AnswerPrompt {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("answer prompt is empty");
        if (target == counter) throw new IllegalArgumentException("answer prompt: target and counter token are both " + target);
        prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }
}
