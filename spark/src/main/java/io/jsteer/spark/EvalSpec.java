/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.options.EvaluationOptions;
import io.jsteer.cli.steer.Evaluations;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.eval.AnswerPrompt;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.LogitDifference;
import io.jsteer.steering.eval.Measure;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.eval.WordSet;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What an evaluation measures, as token ids that travel to the executors: the on-target measure,
 * the held-out texts of the perplexity ratio and the spillover measures, as the {@code eval} and
 * {@code sweep} commands build them. Every measure scores each item alone, so any run of
 * consecutive items can be scored on its own ({@link MeasureSpec#slice}) and the scores put back
 * in item order are the ones the whole measure gives.
 */
public record EvalSpec(MeasureSpec target, MeasureSpec perplexity, List<MeasureSpec> spillover) implements Serializable {
    public EvalSpec {
        spillover = List.copyOf(spillover);
    }

    /** Every measure: the target, the perplexity texts, then the spillover measures. */
    List<MeasureSpec> measures() {
        List<MeasureSpec> all = new ArrayList<>();
        all.add(target);
        all.add(perplexity);
        all.addAll(spillover);
        return all;
    }

    /** One measure's items, any consecutive run of which can be scored alone. */
    public sealed interface MeasureSpec extends Serializable {
        String name();

        int size();

        /** The measure over items {@code [from, to)}, scoring each exactly as the whole measure scores it. */
        Measure slice(int from, int to);
    }

    /** {@link WordScore}: a word set's score on continuations of prompts. */
    public record Words(String name, int[] ids, List<String> unmatched, List<int[]> prompts, int maxNewTokens, double temperature,
                        int topK, double topP, long seed, WordScore.Statistic statistic) implements MeasureSpec {
        @Override
        public int size() {
            return prompts.size();
        }

        /**
         * Item {@code i} of the whole measure samples from {@code seed + G * i} ({@link Decoding#sampler}, G the
         * golden-ratio stride); item {@code i - from} of the slice does the same with its seed moved by {@code G * from}.
         */
        @Override
        public Measure slice(int from, int to) {
            long shifted = seed + 0x9E3779B97F4A7C15L * from;
            Decoding d = new Decoding(maxNewTokens, temperature, topK, topP, shifted);
            return new WordScore(new WordSet(name, ids, unmatched), prompts.subList(from, to), d, statistic);
        }
    }

    /** {@link TextNll} of held-out texts. */
    public record Texts(List<int[]> texts) implements MeasureSpec {
        @Override
        public String name() {
            return "nll";
        }

        @Override
        public int size() {
            return texts.size();
        }

        @Override
        public Measure slice(int from, int to) {
            return new TextNll(texts.subList(from, to));
        }
    }

    /** {@link LogitDifference}: {@code logit(target) - logit(counter)} after each answer prompt. */
    public record Answers(String name, List<int[]> prompts, int[] targets, int[] counters) implements MeasureSpec {
        @Override
        public int size() {
            return prompts.size();
        }

        @Override
        public Measure slice(int from, int to) {
            List<AnswerPrompt> items = new ArrayList<>();
            for (int i = from; i < to; i++) items.add(new AnswerPrompt(prompts.get(i), targets[i], counters[i]));
            return new LogitDifference(name, items);
        }
    }

    /**
     * The evaluation the {@code eval}/{@code sweep} options describe ({@code --target-words} with
     * {@code --eval-prompts}, or {@code --answers}; {@code --heldout}, {@code --spillover}, the
     * decoding of the scored continuations), tokenized for {@code m} as the local commands do.
     */
    public static EvalSpec of(LoadedModel m, EvaluationOptions o) {
        Decoding d = o.decoding();
        WordScore.Statistic statistic = o.statistic();
        List<Evaluations.NamedWords> spillover = o.spillover();
        Texts perplexity = new Texts(Evaluations.heldoutIds(m, o.heldoutTexts()));
        MeasureSpec target;
        List<int[]> prompts;
        if (o.answers() != null) {
            List<AnswerPrompt> answers = Evaluations.answerPrompts(m, o.answers());
            prompts = answers.stream().map(AnswerPrompt::prompt).toList();
            target = new Answers(o.targetName(), prompts, answers.stream().mapToInt(AnswerPrompt::target).toArray(),
                    answers.stream().mapToInt(AnswerPrompt::counter).toArray());
        } else {
            Evaluations.NamedWords words = o.target();
            prompts = o.prompts().stream().map(m::encode).toList();
            target = words(m, words, prompts, d, statistic);
        }
        List<MeasureSpec> spill = new ArrayList<>();
        for (Evaluations.NamedWords w : spillover) spill.add(words(m, w, prompts, d, statistic));
        return new EvalSpec(target, perplexity, spill);
    }

    /**
     * The word-score evaluation of {@code --target-name NAME --target-words W --eval-prompts P
     * --heldout H --spillover NAME=W...}, for callers of the Java API, tokenized for {@code m} as the
     * command line does.
     */
    public static EvalSpec words(LoadedModel m, String targetName, List<String> targetWords, List<Prompt> prompts, List<Prompt> heldout,
                                 Map<String, List<String>> spillover, Decoding decoding, WordScore.Statistic statistic) {
        List<int[]> ids = prompts.stream().map(m::encode).toList();
        List<MeasureSpec> spill = new ArrayList<>();
        for (var e : spillover.entrySet()) spill.add(words(m, new Evaluations.NamedWords(e.getKey(), e.getValue()), ids, decoding, statistic));
        return new EvalSpec(words(m, new Evaluations.NamedWords(targetName, targetWords), ids, decoding, statistic),
                new Texts(Evaluations.heldoutIds(m, heldout)), spill);
    }

    private static Words words(LoadedModel m, Evaluations.NamedWords w, List<int[]> prompts, Decoding d, WordScore.Statistic statistic) {
        WordSet set = Evaluations.wordSet(m, w);
        return new Words(set.name(), set.ids(), set.unmatched(), prompts, d.maxNewTokens(), d.temperature(), d.topK(), d.topP(), d.seed(), statistic);
    }
}
