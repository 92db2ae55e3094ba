/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Generator.Listener;
import io.jsteer.transformer.generate.Generator.Result;
import io.jsteer.transformer.generate.Generator.Stop;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
import java.util.function.Function;

/**
 * One continuation to generate, as a {@link Job}: at most {@code maxNewTokens} tokens chosen by
 * {@code sampler} after {@code prompt}, ending early at a stop token, when the listener says so or
 * when the context is full. {@code steering} (may be null) attaches the sequence's hooks to its
 * state. Run many at once with {@link Generator#generateAll}; {@link #result()} once ended.
 */
public final class Generation implements Job {
    private final int[] prompt;
    private final int maxNewTokens;
    private final Sampler sampler;
    private final int[] stops;
    private final Listener listener;
    private final Function<State, Hooks.Handle> steering;
    private final int context, vocab;
    private int[] out;
    private int n;
    private State state;
    private Hooks.Handle handle;
    private Result result;
    private Exception failure;

    /**
     * A generation; its prompt is checked against the model ({@link io.jsteer.transformer.Model#checkPrompt})
     * when it is admitted to an {@link io.jsteer.transformer.batch.Engine}, and by the
     * {@link Generator} methods that make one.
     *
     * @param context the model's {@code max_position_embeddings}
     * @param vocab   the model's vocabulary size
     */
    public Generation(int[] prompt, int maxNewTokens, Sampler sampler, int[] stopTokens, Listener listener,
            Function<State, Hooks.Handle> steering, int context, int vocab) {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("generation needs a prompt of at least one token");
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        if (sampler == null) throw new IllegalArgumentException("generation needs a sampler");
        this.prompt = prompt.clone();
        this.maxNewTokens = maxNewTokens;
        this.sampler = sampler;
        this.stops = stopTokens == null ? new int[0] : stopTokens.clone();
        Arrays.sort(stops);
        this.listener = listener;
        this.steering = steering;
        this.context = context;
        this.vocab = vocab;
        this.out = new int[maxNewTokens];
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public void start(State state) {
        this.state = state;
        if (steering != null) handle = steering.apply(state);
    }

    @Override
    public int next(float[] logits) {
        int next = sampler.next(logits, 0, vocab);
        if (Arrays.binarySearch(stops, next) >= 0) return done(Stop.STOP_TOKEN);
        out[n++] = next;
        if (listener != null && !listener.token(next)) return done(Stop.LISTENER);
        if (n == maxNewTokens) return done(Stop.MAX_TOKENS);
        if (state.length() == context) return done(Stop.CONTEXT_FULL);
        return next;
    }

    private int done(Stop why) {
        result = new Result(Arrays.copyOf(out, n), why);
        return END;
    }

    @Override
    public void end(Exception failure) {
        this.failure = failure;
        if (handle != null) handle.close();
        handle = null;
        state = null;
    }

    /** Whether no token is to be generated at all (then no forward pass is needed). */
    boolean empty() {
        return maxNewTokens == 0;
    }

    /** The result, once the job has ended; throws the failure that ended it, if any. */
    public Result result() {
        if (failure instanceof RuntimeException e) throw e;
        if (failure != null) throw new IllegalStateException(failure.getMessage(), failure);
        if (maxNewTokens == 0) return new Result(new int[0], Stop.MAX_TOKENS);
        if (result == null) throw new IllegalStateException("generation has not ended");
        return result;
    }
}
