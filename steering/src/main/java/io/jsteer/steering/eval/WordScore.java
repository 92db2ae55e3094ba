/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Behaviour-word score of continuations: per held-out prompt, a continuation is generated (see
 * {@link Decoding}) and either the mean next-token probability mass of the word set over its steps
 * ({@link Statistic#PROBABILITY_MASS}, smooth and informative even when no word is emitted) or the
 * fraction of emitted tokens that are in the set ({@link Statistic#RATE}) is recorded.
 */
public final class WordScore implements Measure {
    /** What is recorded per continuation. */
    public enum Statistic {
        /** Mean over steps of {@code sum_{w in set} p(w | prefix)}. */
        PROBABILITY_MASS,
        /** Fraction of generated tokens that are in the set. */
        RATE
    }

    private final WordSet words;
    private final List<int[]> prompts;
    private final Decoding decoding;
    private final Statistic statistic;

    /** Scores {@code words} in the continuations of {@code prompts} decoded as {@code decoding}, summarised by {@code statistic}. */
    public WordScore(WordSet words, List<int[]> prompts, Decoding decoding, Statistic statistic) {
        if (words == null) throw new IllegalArgumentException("word score needs a word set");
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("word score '" + words.name() + "' has no prompts");
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i) == null || prompts.get(i).length == 0) throw new IllegalArgumentException("word score '" + words.name() + "': prompt " + i + " is empty");
        }
        if (decoding == null || statistic == null) throw new IllegalArgumentException("word score '" + words.name() + "' needs a decoding and a statistic");
        this.words = words;
        this.prompts = prompts.stream().map(int[]::clone).toList();
        this.decoding = decoding;
        this.statistic = statistic;
    }

    @Override
    public String name() {
        return words.name();
    }

    @Override
    public int size() {
        return prompts.size();
    }

    @Override
    public List<ItemJob> items(Model model, Intervention steering, double[] scores) {
        int vocab = model.config().vocabSize();
        int[] ids = words.ids();
        for (int id : ids) LogProbs.checkToken("word set '" + words.name() + "'", id, vocab);
        List<ItemJob> jobs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            double[] mass = {0};
            Continuations.StepObserver observer = statistic == Statistic.PROBABILITY_MASS
                    ? (step, logits) -> mass[0] += LogProbs.mass(logits, 0, vocab, ids)
                    : (step, logits) -> {};
            jobs.add(new Continuations.ContinuationJob(name(), i, prompts.get(i), steering, decoding, model, observer, scores) {
                @Override
                double score(int[] out) {
                    if (statistic == Statistic.PROBABILITY_MASS) return mass[0] / decoding.maxNewTokens();
                    int hits = 0;
                    for (int t : out) if (Arrays.binarySearch(ids, t) >= 0) hits++;
                    return (double) hits / out.length;
                }
            });
        }
        return jobs;
    }
}
