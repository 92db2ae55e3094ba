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
 * Per held-out text, the teacher-forced mean negative log-likelihood per predicted token, in nats:
 * {@code -(1/(T-1)) sum_{t<T-1} log softmax(logits_t)[x_{t+1}]}. Each text is fed as one prompt,
 * so an intervention acting on prompt positions steers every position. {@code exp} of it is the
 * text's perplexity; see {@link PerplexityChange}.
 */
public final class TextNll implements Measure {
    private final List<int[]> texts;

    /** Texts as token ids, each at least two tokens long. */
    public TextNll(List<int[]> texts) {
        if (texts == null || texts.isEmpty()) throw new IllegalArgumentException("perplexity needs at least one held-out text");
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null || texts.get(i).length < 2) {
                throw new IllegalArgumentException("held-out text " + i + " has fewer than 2 tokens; perplexity needs a token to predict");
            }
        }
        this.texts = texts.stream().map(int[]::clone).toList();
    }

    @Override
    public String name() {
        return "nll";
    }

    @Override
    public int size() {
        return texts.size();
    }

    @Override
    public List<ItemJob> items(Model model, Intervention steering, double[] scores) {
        int vocab = model.config().vocabSize();
        List<ItemJob> jobs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] x = texts.get(i);
            jobs.add(new ItemJob(name(), i, x, steering, scores) {
                @Override
                public boolean allPromptLogits() {
                    return true;
                }

                @Override
                public int next(float[] logits) {
                    double nll = 0;
                    for (int t = 0; t + 1 < x.length; t++) {
                        int off = t * vocab;
                        nll += LogProbs.logSumExp(logits, off, vocab) - logits[off + x[t + 1]];
                    }
                    scores[item] = nll / (x.length - 1);
                    return END;
                }
            });
        }
        return jobs;
    }
}
