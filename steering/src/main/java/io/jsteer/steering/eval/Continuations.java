/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.generate.Sampler;
import java.util.List;

/**
 * Fixed-length continuations with the KV cache, steered or not, seeing each step's logits: what
 * behaviour scores are computed on. Prompt and generated tokens are fed in separate calls, as in
 * {@link io.jsteer.transformer.generate.Generator}, so position-dependent interventions act as
 * they do in generation. Use {@link #generate(Model, Intervention, int[], Decoding, int)} for
 * report examples that should match what was scored.
 */
public final class Continuations {
    private Continuations() {}

    /** Sees each step's next-token logits (only valid during the call) before a token is chosen. */
    @FunctionalInterface
    interface StepObserver {
        void step(int step, float[] logits);
    }

    /**
     * The {@code decoding.maxNewTokens()} token ids following {@code prompt} on a fresh state with
     * {@code steering} attached ({@code null}: unsteered). {@code item} picks the random stream
     * when sampling; use the same value for the runs you compare.
     */
    public static int[] generate(Model model, Intervention steering, int[] prompt, Decoding decoding, int item) {
        ContinuationJob job = new ContinuationJob("continuation", item, prompt, steering, decoding, model, (s, l) -> {}, null);
        ItemJob.run(model, List.of(job));
        return job.tokens();
    }

    /**
     * The continuation of item {@code item} as a job of a measure: it reports each step's logits
     * to {@code observer} and, when done, its score from {@link #score} into {@code scores[item]}
     * ({@code scores} null: the tokens alone are wanted).
     */
    static class ContinuationJob extends ItemJob {
        private final Sampler sampler;
        private final StepObserver observer;
        private final int[] out;
        private int step;

        ContinuationJob(String measure, int item, int[] prompt, Intervention steering, Decoding decoding, Model model, StepObserver observer, double[] scores) {
            super(measure, item, prompt, steering, scores);
            int need = prompt.length + decoding.maxNewTokens() - 1;
            if (need > model.config().maxPositions()) {
                throw new IllegalArgumentException("measure '" + measure + "', item " + item + ": prompt of " + prompt.length + " tokens plus "
                        + decoding.maxNewTokens() + " new tokens exceeds the model's max_position_embeddings " + model.config().maxPositions());
            }
            this.sampler = decoding.sampler(item);
            this.observer = observer;
            this.out = new int[decoding.maxNewTokens()];
        }

        @Override
        int positions() {
            return prompt.length + out.length - 1;
        }

        @Override
        public int next(float[] logits) {
            observer.step(step, logits);
            out[step] = sampler.next(logits);
            step++;
            if (step < out.length) return out[step - 1];
            // the last token is chosen but never fed back: its successor is not needed
            if (scores != null) scores[item] = score(out);
            return END;
        }

        /** The item's score once its tokens are chosen; 0 unless overridden. */
        double score(int[] tokens) {
            return 0;
        }

        int[] tokens() {
            return out.clone();
        }
    }
}
