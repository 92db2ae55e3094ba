/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.steer.Evaluations;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.WordScore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** What steering is measured on: the on-target measure, held-out text for perplexity, spillover word sets. */
public final class EvaluationOptions {
    @Option(names = "--eval-prompts", paramLabel = "FILE", description = "Held-out prompts whose continuations are scored for the target words.")
    Path evalPrompts;

    @Option(names = "--target-words", paramLabel = "W1,W2,...", split = ",", description = "The behaviour's words; the on-target score is their share of the continuations.")
    List<String> targetWords;

    @Option(names = "--target-name", paramLabel = "NAME", defaultValue = "target", description = "Name of the target behaviour (default ${DEFAULT-VALUE}).")
    String targetName;

    @Option(names = "--answers", paramLabel = "FILE.jsonl",
            description = "Instead of target words: {\"prompt\": ..., \"target\": \" A\", \"counter\": \" B\"} per line; scores logit(target) - logit(counter).")
    Path answers;

    @Option(names = "--heldout", paramLabel = "FILE", required = true, description = "Held-out texts, one per line, for the perplexity ratio.")
    Path heldout;

    /** The held-out texts as token ids: the reference for the residual norm in steering headers. */
    public List<int[]> heldoutIds(LoadedModel m) {
        return PromptFiles.prompts(heldout).stream().map(m::encode).toList();
    }

    @Option(names = "--spillover", paramLabel = "NAME=W1,W2,...", description = "A word set that should not move (repeatable).")
    List<String> spillover = new ArrayList<>();

    @Option(names = "--eval-tokens", paramLabel = "N", defaultValue = "20", description = "Tokens generated per held-out prompt (default ${DEFAULT-VALUE}).")
    int evalTokens;

    @Option(names = "--eval-temperature", paramLabel = "T", defaultValue = "0", description = "Sampling temperature of the scored continuations; 0 = greedy.")
    double evalTemperature;

    @Option(names = "--eval-seed", paramLabel = "SEED", defaultValue = "0", description = "Seed of the scored continuations.")
    long evalSeed;

    @Option(names = "--statistic", paramLabel = "mass|rate", defaultValue = "mass",
            description = "Word score per continuation: mean probability mass of the words per step, or share of generated tokens that are words.")
    String statistic;

    /** The held-out prompts (eval prompts, or the prompts of the answers file), e.g. for example generations. */
    public List<Prompt> prompts() {
        if (answers != null) return PromptFiles.answers(answers).stream().map(PromptFiles.Answer::prompt).toList();
        if (evalPrompts == null) throw new UserError("give --target-words with --eval-prompts (or --answers)");
        return PromptFiles.prompts(evalPrompts);
    }

    /** The evaluator these options describe. */
    public Evaluator build(LoadedModel m) {
        Decoding decoding = decoding();
        WordScore.Statistic stat = statistic();
        List<Evaluations.NamedWords> spill = spillover();
        List<Prompt> texts = heldoutTexts();
        if (answers() != null) return Evaluations.logitDifference(m, targetName, answers, texts, spill, decoding, stat);
        return Evaluations.wordScore(m, target(), PromptFiles.prompts(evalPrompts), texts, spill, decoding, stat);
    }

    /** How the scored continuations are decoded. */
    public Decoding decoding() {
        try {
            return new Decoding(evalTokens, evalTemperature, 0, 1, evalSeed);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** The word score per continuation. */
    public WordScore.Statistic statistic() {
        return switch (statistic.toLowerCase(Locale.ROOT)) {
            case "mass" -> WordScore.Statistic.PROBABILITY_MASS;
            case "rate" -> WordScore.Statistic.RATE;
            default -> throw new UserError("--statistic must be mass or rate, got '" + statistic + "'");
        };
    }

    /** The spillover word sets, in the order given. */
    public List<Evaluations.NamedWords> spillover() {
        List<Evaluations.NamedWords> spill = new ArrayList<>();
        for (String s : spillover) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new UserError("--spillover '" + s + "': expected NAME=word1,word2,...");
            spill.add(new Evaluations.NamedWords(s.substring(0, eq), List.of(s.substring(eq + 1).split(","))));
        }
        return spill;
    }

    /** The held-out texts of the perplexity ratio. */
    public List<Prompt> heldoutTexts() {
        return PromptFiles.prompts(heldout);
    }

    /** The answers file when the on-target measure is a logit difference, else null. */
    public Path answers() {
        if (answers != null && (targetWords != null || evalPrompts != null)) {
            throw new UserError("--answers replaces --target-words and --eval-prompts; give one or the other");
        }
        return answers;
    }

    /** The name of the target behaviour. */
    public String targetName() {
        return targetName;
    }

    /** The target word set, when the on-target measure is a word score (no {@code --answers}). */
    public Evaluations.NamedWords target() {
        if (targetWords == null || evalPrompts == null) throw new UserError("give --target-words with --eval-prompts (or --answers)");
        return new Evaluations.NamedWords(targetName, targetWords);
    }
}
