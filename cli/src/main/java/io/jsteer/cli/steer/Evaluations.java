/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.steering.eval.AnswerPrompt;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.LogitDifference;
import io.jsteer.steering.eval.Measure;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.eval.WordSet;
import io.jsteer.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Evaluators from text inputs: word sets and prompts are tokenized for the model being steered. */
public final class Evaluations {
    private Evaluations() {}

    /** A behaviour named by its words. */
    public record NamedWords(String name, List<String> words) {
        public NamedWords {
            if (name == null || name.isBlank()) throw new UserError("a word set needs a name");
            words = words.stream().map(String::strip).filter(w -> !w.isEmpty()).toList();
            if (words.isEmpty()) throw new UserError("word set '" + name + "' has no words");
        }
    }

    /** On-target: the share of {@code target} words in continuations of {@code prompts}. */
    public static Evaluator wordScore(LoadedModel m, NamedWords target, List<Prompt> prompts, List<Prompt> heldout,
                                      List<NamedWords> spillover, Decoding decoding, WordScore.Statistic statistic) {
        List<int[]> ids = prompts.stream().map(m::encode).toList();
        Measure on = words(m, target, ids, decoding, statistic);
        return new Evaluator(m.model(), on, nll(m, heldout), spill(m, spillover, ids, decoding, statistic));
    }

    /** On-target: {@code logit(target) - logit(counter)} after each answer prompt of {@code answersFile}. */
    public static Evaluator logitDifference(LoadedModel m, String name, Path answersFile, List<Prompt> heldout,
                                            List<NamedWords> spillover, Decoding decoding, WordScore.Statistic statistic) {
        List<AnswerPrompt> answers = answerPrompts(m, answersFile);
        List<int[]> prompts = answers.stream().map(AnswerPrompt::prompt).toList();
        return new Evaluator(m.model(), new LogitDifference(name, answers), nll(m, heldout), spill(m, spillover, prompts, decoding, statistic));
    }

    /** The lines of an answers file, tokenized for {@code m}; each answer must be one token. */
    public static List<AnswerPrompt> answerPrompts(LoadedModel m, Path answersFile) {
        Tokenizer tok = m.requireTokenizer("--answers");
        List<AnswerPrompt> answers = new ArrayList<>();
        for (PromptFiles.Answer a : PromptFiles.answers(answersFile)) {
            answers.add(new AnswerPrompt(m.encode(a.prompt()), single(tok, a.target(), answersFile), single(tok, a.counter(), answersFile)));
        }
        return answers;
    }

    private static int single(Tokenizer tok, String text, Path file) {
        int[] ids = tok.encode(text);
        if (ids.length != 1) throw new UserError(file + ": answer '" + text + "' is " + ids.length + " tokens; answers must be single tokens");
        return ids[0];
    }

    private static WordScore words(LoadedModel m, NamedWords w, List<int[]> prompts, Decoding decoding, WordScore.Statistic statistic) {
        return new WordScore(wordSet(m, w), prompts, decoding, statistic);
    }

    /** The token ids of a word set in {@code m}'s vocabulary. */
    public static WordSet wordSet(LoadedModel m, NamedWords w) {
        try {
            return WordSet.of(w.name(), m.requireTokenizer("word set '" + w.name() + "'"), w.words());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static List<Measure> spill(LoadedModel m, List<NamedWords> spillover, List<int[]> prompts, Decoding decoding, WordScore.Statistic statistic) {
        return spillover.stream().map(w -> (Measure) words(m, w, prompts, decoding, statistic)).toList();
    }

    private static TextNll nll(LoadedModel m, List<Prompt> heldout) {
        return new TextNll(heldoutIds(m, heldout));
    }

    /** The held-out texts of the perplexity ratio tokenized for {@code m}; each needs at least 2 tokens. */
    public static List<int[]> heldoutIds(LoadedModel m, List<Prompt> heldout) {
        List<int[]> texts = heldout.stream().map(m::encode).toList();
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i).length < 2) throw new UserError("held-out text " + (i + 1) + " ('" + heldout.get(i).label() + "') has fewer than 2 tokens");
        }
        return texts;
    }
}
