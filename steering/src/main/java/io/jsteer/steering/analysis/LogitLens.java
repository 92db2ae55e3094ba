/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The logit lens (nostalgebraist, "interpreting GPT: the logit lens", LessWrong 2020): the
 * residual stream after each block read out as if it were the last, through the model's own final
 * norm and unembedding, to see at which depth a prediction forms.
 *
 * <p>The stages read are the embedding ({@code blocks.0.hook_resid_pre}, the scaled token
 * embedding) and {@code blocks.L.hook_resid_post} of every block {@code L}. Each is read out
 * exactly as {@link Model#forward} reads out the last block: final norm (LayerNorm or RMSNorm,
 * with its statistics taken from the stream read, TransformerLens' {@code
 * accumulated_resid(apply_ln=True)} with each stage's own scale), unembedding, and Gemma 2's final
 * soft-cap {@code cap * tanh(logit / cap)} where the checkpoint has one. So the last stage gives
 * the model's logits bit for bit. Probabilities are the softmax over the whole vocabulary.
 *
 * <pre>{@code
 * LogitLens.Lens lens = new LogitLens(model).run(tokenizer.encode("The capital of France is"), 5, new int[] {paris});
 * for (LogitLens.Stage s : lens.stages())
 *     System.out.println(s.hook() + ": " + s.positions().getLast().top().getFirst());
 * }</pre>
 */
public final class LogitLens {
    /** Top tokens kept per stage and position when not told otherwise. */
    public static final int DEFAULT_TOP_K = 10;
    private final Model model;

    /**
     * A lens over {@code model}.
     *
     * @param model the model whose stream is read and whose final norm and unembedding read it
     */
    public LogitLens(Model model) {
        if (model == null) throw new IllegalArgumentException("logit lens needs a model");
        this.model = model;
    }

    /**
     * A token's standing in one distribution.
     *
     * @param token       the token id
     * @param logit       its logit (after the soft-cap where the model has one)
     * @param probability its softmax probability over the whole vocabulary
     * @param rank        1 for the most likely token, 2 for the next; tokens of equal logit share the better rank
     */
    public record TokenScore(int token, float logit, double probability, int rank) {}

    /**
     * One stage at one position.
     *
     * @param position the position in the prompt
     * @param top      the {@code topK} most likely next tokens, most likely first
     * @param chosen   the chosen tokens, in the order asked for
     * @param next     the prompt's own next token (the one at {@code position + 1}); null at the last position
     */
    public record Cell(int position, List<TokenScore> top, List<TokenScore> chosen, TokenScore next) {}

    /**
     * The stream at one hook point read out at every position.
     *
     * @param hook      the hook point read, e.g. {@code blocks.2.hook_resid_post}
     * @param positions one cell per prompt position, in order
     */
    public record Stage(HookName hook, List<Cell> positions) {}

    /**
     * The lens over a prompt.
     *
     * @param tokens the prompt
     * @param chosen the chosen tokens scored at every stage and position
     * @param stages the embedding, then every block's output, in depth order
     */
    public record Lens(int[] tokens, int[] chosen, List<Stage> stages) {}

    /**
     * Runs {@code tokens} through the model once and reads out the stream at every stage.
     *
     * @param tokens the prompt, at least one token
     * @param topK   how many top tokens to keep per stage and position, at least 1
     * @param chosen tokens to score everywhere (may be empty)
     * @return the lens, stage by stage
     * @throws IllegalArgumentException on an empty prompt, {@code topK < 1} or a token outside the vocabulary
     */
    public Lens run(int[] tokens, int topK, int[] chosen) {
        int vocab = model.config().vocabSize();
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("logit lens needs a prompt of at least one token");
        if (topK < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        for (int c : chosen) {
            if (c < 0 || c >= vocab) throw new IllegalArgumentException("chosen token " + c + " is outside the vocabulary [0, " + vocab + ")");
        }
        List<HookName> points = stages(model);
        float[][] streams = Streams.record(model, tokens, points);
        List<Stage> stages = new ArrayList<>(points.size());
        for (int s = 0; s < points.size(); s++) stages.add(stage(points.get(s), streams[s], tokens, Math.min(topK, vocab), chosen));
        return new Lens(tokens.clone(), chosen.clone(), List.copyOf(stages));
    }

    /** The points read: {@code blocks.0.hook_resid_pre}, then {@code blocks.L.hook_resid_post} of every block. */
    static List<HookName> stages(Model model) {
        List<HookName> points = new ArrayList<>();
        points.add(new HookName(0, HookPoint.RESID_PRE));
        for (int l = 0; l < model.config().numLayers(); l++) points.add(new HookName(l, HookPoint.RESID_POST));
        return points;
    }

    private Stage stage(HookName hook, float[] stream, int[] tokens, int topK, int[] chosen) {
        int T = tokens.length, V = model.config().vocabSize();
        float[] logits = Readout.logits(model, stream, T);
        List<Cell> cells = new ArrayList<>(T);
        for (int t = 0; t < T; t++) {
            Distribution p = new Distribution(logits, t * V, V);
            List<TokenScore> scored = new ArrayList<>(chosen.length);
            for (int c : chosen) scored.add(p.score(c));
            cells.add(new Cell(t, p.top(topK), List.copyOf(scored), t + 1 < T ? p.score(tokens[t + 1]) : null));
        }
        return new Stage(hook, List.copyOf(cells));
    }

    /** One row of logits with its log-normaliser, for probabilities and ranks. */
    private record Distribution(float[] logits, int from, int n, double logZ) {
        Distribution(float[] logits, int from, int n) {
            this(logits, from, n, logSumExp(logits, from, n));
        }

        static double logSumExp(float[] x, int from, int n) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) max = Math.max(max, x[from + i]);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += Math.exp(x[from + i] - max);
            return max + Math.log(sum);
        }

        TokenScore score(int token) {
            float logit = logits[from + token];
            int above = 0;
            for (int i = 0; i < n; i++) if (logits[from + i] > logit) above++;
            return new TokenScore(token, logit, Math.exp(logit - logZ), above + 1);
        }

        /** The {@code k} largest logits, largest first; equal logits in token order. */
        List<TokenScore> top(int k) {
            PriorityQueue<Integer> heap = new PriorityQueue<>(k + 1, (a, b) -> {
                int c = Float.compare(logits[from + a], logits[from + b]);
                return c != 0 ? c : Integer.compare(b, a);
            });
            for (int i = 0; i < n; i++) {
                heap.add(i);
                if (heap.size() > k) heap.poll();
            }
            Integer[] best = heap.toArray(new Integer[0]);
            Arrays.sort(best, heap.comparator().reversed());
            List<TokenScore> out = new ArrayList<>(best.length);
            for (int token : best) out.add(score(token));
            return List.copyOf(out);
        }
    }
}
