/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import java.util.ArrayList;
import java.util.List;

/**
 * Per prompt, {@code logit(target) - logit(counter)} at the last prompt position, the logit
 * difference of Rimsky et al., "Steering Llama 2 via Contrastive Activation Addition" (2024).
 * Steered minus unsteered, it says how far steering moved the answer towards the target; being a
 * difference of logits it is independent of the rest of the vocabulary.
 */
public final class LogitDifference implements Measure {
    private final String name;
    private final List<AnswerPrompt> prompts;

    /** The measure {@code name} over {@code prompts}, each with its target and counter token. */
    public LogitDifference(String name, List<AnswerPrompt> prompts) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("logit-difference measure needs a name");
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("logit-difference measure '" + name + "' has no prompts");
        this.name = name;
        this.prompts = List.copyOf(prompts);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return prompts.size();
    }

    @Override
    public List<ItemJob> items(Model model, Intervention steering, double[] scores) {
        int vocab = model.config().vocabSize();
        List<ItemJob> jobs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            AnswerPrompt p = prompts.get(i);
            try {
                LogProbs.checkToken("target", p.target(), vocab);
                LogProbs.checkToken("counter", p.counter(), vocab);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("measure '" + name + "', item " + i + ": " + e.getMessage(), e);
            }
            jobs.add(new ItemJob(name, i, p.prompt(), steering, scores) {
                @Override
                public int next(float[] logits) {
                    scores[item] = (double) logits[p.target()] - logits[p.counter()];
                    return END;
                }
            });
        }
        return jobs;
    }
}
