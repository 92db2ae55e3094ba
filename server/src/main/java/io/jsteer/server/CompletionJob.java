/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.jsteer.steering.Intervention;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;

/**
 * One choice of one request on the engine: its prompt, its own steering attached to its own
 * sequence, a sampler of its own, and the events it sends to the HTTP thread that waits for it
 * (text pieces as tokens are chosen, then how it ended). Called on the engine thread only, except
 * {@link #cancel}, which any thread may call: a cancelled job leaves at the next step, or is never
 * admitted, and its batch slot and KV cache go back to the engine.
 */
final class CompletionJob implements Job {
    /** The log-probability of a chosen token and of the most likely alternatives. */
    record TokenLogprob(int id, double logprob, List<Top> top) {}

    record Top(int id, double logprob) {}

    /**
     * What the HTTP thread hears: a piece of text (and the tokens' log-probabilities, when asked),
     * or the end ({@code finishReason} non-null, or {@code failure} non-null).
     */
    record Event(int index, String text, List<TokenLogprob> logprobs, String finishReason, Exception failure, int completionTokens) {
        boolean last() {
            return finishReason != null || failure != null;
        }
    }

    final int index;
    private final int[] prompt;
    private final int maxTokens;
    private final Sampler sampler;
    private final int[] stopIds;
    private final TextStream text;
    private final int topLogprobs;
    private final List<Intervention> steering;
    private final BlockingQueue<Event> events;
    private final Metrics metrics;
    private final int vocab;
    private final int context;
    private final long created = System.nanoTime();
    private final List<Hooks.Handle> handles = new ArrayList<>();
    private volatile boolean cancelled;
    private boolean started;
    private boolean ended;
    private State state;
    private int generated;
    private List<TokenLogprob> pending = new ArrayList<>();

    /**
     * @param topLogprobs -1 for no log-probabilities, else how many alternatives to report (0 = the chosen token's only)
     */
    CompletionJob(int index, int[] prompt, int maxTokens, Sampler sampler, int[] stopIds, Tokenizer tokenizer, List<String> stops,
            int topLogprobs, List<Intervention> steering, BlockingQueue<Event> events, Metrics metrics, int vocab, int context) {
        this.index = index;
        this.prompt = prompt.clone();
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.stopIds = stopIds.clone();
        Arrays.sort(this.stopIds);
        this.text = new TextStream(tokenizer, stops);
        this.topLogprobs = topLogprobs;
        this.steering = List.copyOf(steering);
        this.events = events;
        this.metrics = metrics;
        this.vocab = vocab;
        this.context = context;
    }

    /** Asks the job to stop; safe from any thread. */
    void cancel() {
        cancelled = true;
    }

    int promptTokens() {
        return prompt.length;
    }

    @Override
    public int[] prompt() {
        if (cancelled) throw new CancellationException("the client went away before the request was admitted");
        return prompt.clone();
    }

    @Override
    public void start(State state) {
        this.state = state;
        started = true;
        metrics.admitted(System.nanoTime() - created);
        for (Intervention i : steering) handles.add(i.attach(state));
    }

    @Override
    public int next(float[] logits) {
        if (cancelled) return finish("cancelled");
        int id = sampler.next(logits, 0, vocab);
        if (topLogprobs >= 0) pending.add(logprob(logits, id));
        if (generated == 0) metrics.firstToken(System.nanoTime() - created);
        if (Arrays.binarySearch(stopIds, id) >= 0) return finish("stop");
        generated++;
        metrics.generated(1);
        String piece = text.push(id);
        if (text.stopped()) {
            send(piece);
            return finish("stop");
        }
        if (!piece.isEmpty() || !pending.isEmpty()) send(piece);
        if (generated >= maxTokens || state.length() >= context) return finish("length");
        return id;
    }

    private void send(String piece) {
        events.add(new Event(index, piece, pending.isEmpty() ? List.of() : pending, null, null, generated));
        pending = new ArrayList<>();
    }

    private int finish(String reason) {
        if (!ended) {
            ended = true;
            String rest = text.finish();
            if (!rest.isEmpty() || !pending.isEmpty()) send(rest);
            events.add(new Event(index, "", List.of(), reason, null, generated));
        }
        return END;
    }

    @Override
    public void end(Exception failure) {
        for (Hooks.Handle h : handles) h.close();
        handles.clear();
        state = null;
        metrics.ended(started);
        if (ended) return;
        ended = true;
        if (cancelled || failure instanceof CancellationException) {
            events.add(new Event(index, "", List.of(), "cancelled", null, generated));
        } else {
            events.add(new Event(index, "", List.of(), null, failure == null ? new IllegalStateException("generation ended without a reason") : failure, generated));
        }
    }

    /** {@code log softmax(logits)[id]} and the {@link #topLogprobs} most likely tokens, in double precision. */
    private TokenLogprob logprob(float[] logits, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[i] - max);
        double logZ = max + Math.log(sum);
        List<Top> top = new ArrayList<>();
        if (topLogprobs > 0) {
            int[] best = new int[topLogprobs];
            int k = 0;
            for (int i = 0; i < vocab; i++) {
                if (k < topLogprobs) {
                    best[k++] = i;
                } else if (logits[i] > logits[best[k - 1]]) {
                    best[k - 1] = i;
                } else {
                    continue;
                }
                for (int j = k - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--) {
                    int t = best[j];
                    best[j] = best[j - 1];
                    best[j - 1] = t;
                }
            }
            for (int j = 0; j < k; j++) top.add(new Top(best[j], logits[best[j]] - logZ));
        }
        return new TokenLogprob(id, logits[id] - logZ, top);
    }
}
