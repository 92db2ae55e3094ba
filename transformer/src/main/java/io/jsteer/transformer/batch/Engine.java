/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.batch;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.backend.DeviceBackend;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;

/**
 * Runs many sequences ({@link Job}s) through one model, several at a time: each {@link #step}
 * advances every admitted sequence by one forward call of {@link Model#forward(List)}, a prompt
 * for a sequence just admitted and one token for the others, so the weights are read once for
 * all of them. Sequences join as others finish (continuous batching), up to {@code maxSequences}
 * at once.
 *
 * <p>Each job's results are the ones it would get alone, bit for bit: its prompt is fed in one
 * call and each later token in one call, as when a single sequence is generated, its hooks see
 * only its rows (see {@link io.jsteer.transformer.hooks}), and the products give a row the same
 * bits whatever shares the call. So outputs do not depend on the batch size.
 *
 * <p>A sequence whose hooks ask for it ({@link Hooks#recomputeEachToken}) is fed whole again from
 * position 0 for each new token instead of one token on its KV cache; its rows are not counted in
 * the prompt-row budget.
 *
 * <p>A failure ends only the job it belongs to ({@link Job#end} with the exception): a prompt the
 * model refuses ({@link Model#checkPrompt}), a job that throws, a sequence whose values turn
 * non-finite or whose hook throws ({@link Model#forwardEach}); the other sequences of the step go
 * on with the results they would have alone. Only a forward call that fails as a whole (the
 * checkpoint changed on disk, say) ends every job in it.
 *
 * <p>{@link #submit} may be called from any thread; {@link #step} and {@link #run} from one thread
 * at a time, which is where jobs are called.
 */
public final class Engine {
    /** Upper bound of {@link #defaultBatchSize}: past it a step's products are compute-bound and more sequences only add latency. */
    static final int MAX_DEFAULT_BATCH = 16;
    /**
     * Prompt rows a step takes at most by default (a longer prompt is the only one of its step),
     * beside one row per running sequence: enough for the products to run near their peak, few enough that a step's activations die young in the
     * launcher's small young generation (cli/jvm.options) instead of being promoted to the old
     * generation and staying resident; prefilling several prompts in one step of a few hundred
     * rows raised the peak RSS of batched decoding far above the file plus the KV caches.
     */
    public static final int DEFAULT_ROWS = 64;
    /** Largest accepted batch size. */
    public static final int MAX_BATCH = 4096;

    private final Model model;
    private final int maxSequences;
    private final long maxRows;
    private final ConcurrentLinkedQueue<Job> waiting = new ConcurrentLinkedQueue<>();
    private final List<Running> running = new ArrayList<>();
    private final ArrayDeque<State> idle = new ArrayDeque<>();

    private static final class Running {
        final Job job;
        final State state;
        int[] feed;
        /** The prompt and every token fed since, for a sequence run again whole ({@link Hooks#recomputeEachToken}). */
        int[] sequence;
        int length;

        Running(Job job, State state, int[] feed) {
            this.job = job;
            this.state = state;
            this.feed = feed;
            this.sequence = feed;
            this.length = feed == null ? 0 : feed.length;
        }

        /** Feeds {@code next}: alone on the KV cache, or after the whole sequence from position 0 when a hook asks for that. */
        void feed(int next) {
            if (length == sequence.length) sequence = Arrays.copyOf(sequence, Math.max(2 * length, length + 16));
            sequence[length++] = next;
            if (state.hooks().recomputesEachToken()) {
                state.restart();
                feed = Arrays.copyOf(sequence, length);
            } else {
                feed = new int[] {next};
            }
        }
    }

    /**
     * An engine running up to {@code maxSequences} sequences at once, with prompts admitted into a
     * step while their rows stay within {@code maxRows} (a longer prompt is the only one of its
     * step), beside one token of each running sequence.
     * On a {@link DeviceBackend}, no more than it keeps KV caches for ({@link DeviceBackend#maxSequences}):
     * the results are the same at any batch size.
     */
    public Engine(Model model, int maxSequences, long maxRows) {
        if (model == null) throw new IllegalArgumentException("engine needs a model");
        checkBatchSize(maxSequences);
        if (maxRows < 1) throw new IllegalArgumentException("rows per step must be >= 1, got " + maxRows);
        this.model = model;
        this.maxSequences = model.backend() instanceof DeviceBackend device ? Math.min(maxSequences, device.maxSequences()) : maxSequences;
        this.maxRows = maxRows;
    }

    /** An engine of {@code maxSequences} sequences with the default row budget (see {@link #rowBudget}). */
    public Engine(Model model, int maxSequences) {
        this(model, maxSequences, rowBudget(model));
    }

    /** Fails with a message a user can act on unless {@code 1 <= batchSize <= MAX_BATCH}. */
    public static int checkBatchSize(int batchSize) {
        if (batchSize < 1 || batchSize > MAX_BATCH) {
            throw new IllegalArgumentException("batch size must be between 1 and " + MAX_BATCH + " sequences, got " + batchSize);
        }
        return batchSize;
    }

    /**
     * A batch size that fits in a quarter of the heap still free: each sequence's KV cache at
     * {@code positions} positions plus its rows' activations, at most {@value #MAX_DEFAULT_BATCH}
     * and at least 1.
     */
    public static int defaultBatchSize(Model model, int positions) {
        var c = model.config();
        long kv = 2L * c.numLayers() * c.numKvHeads() * c.headDim() * Float.BYTES * Math.max(1, positions);
        long perSequence = kv + Math.max(1, positions) * rowBytes(model);
        return (int) Math.max(1, Math.min(MAX_DEFAULT_BATCH, freeHeap() / 4 / perSequence));
    }

    /** Rows per step: {@link #DEFAULT_ROWS}, or fewer where their activations would not fit in a quarter of the heap still free (at least 1). */
    public static long rowBudget(Model model) {
        return Math.max(1, Math.min(DEFAULT_ROWS, freeHeap() / 4 / rowBytes(model)));
    }

    /** Bytes a row of a forward call holds at its peak: the residual stream and its normed copies, q/k/v, the MLP's hidden layer, one row of logits. */
    private static long rowBytes(Model model) {
        var c = model.config();
        long floats = 6L * c.hiddenSize() + 3L * c.numHeads() * c.headDim() + 3L * c.intermediateSize() + c.vocabSize();
        return floats * Float.BYTES;
    }

    private static long freeHeap() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** The model the engine runs. */
    public Model model() {
        return model;
    }

    /** The most sequences in one step. */
    public int maxSequences() {
        return maxSequences;
    }

    /** Queues a job; it is admitted at a later {@link #step} once there is room. */
    public void submit(Job job) {
        if (job == null) throw new IllegalArgumentException("no job to submit");
        waiting.add(job);
    }

    /** Sequences admitted and not finished. */
    public int running() {
        return running.size();
    }

    /** Jobs submitted and not yet admitted. */
    public int waiting() {
        return waiting.size();
    }

    /**
     * Runs {@code jobs} to the end, in order of admission, and throws the first failure in list
     * order once all have ended (every job runs even when another fails): a RuntimeException as
     * it is, another exception wrapped in an IllegalStateException.
     */
    public void run(List<? extends Job> jobs) {
        run(jobs, (job, failure) -> failure instanceof RuntimeException e ? e : new IllegalStateException(failure.getMessage(), failure));
    }

    /**
     * Runs {@code jobs} to the end, as {@link #run(List)}, and throws {@code describe}'s account
     * of the first failure in list order (say, naming the job's item) once all have ended.
     *
     * @param describe turns a job and the exception that ended it into the exception to throw
     */
    public <J extends Job> void run(List<J> jobs, BiFunction<? super J, Exception, ? extends RuntimeException> describe) {
        List<FailureWatch> watched = new ArrayList<>(jobs.size());
        for (Job job : jobs) {
            FailureWatch w = new FailureWatch(job);
            watched.add(w);
            submit(w);
        }
        while (step()) {
            // each step advances every running sequence
        }
        for (int i = 0; i < jobs.size(); i++) {
            Exception failure = watched.get(i).failure;
            if (failure != null) throw describe.apply(jobs.get(i), failure);
        }
    }

    /** Remembers how a job ended, for {@link #run}. */
    private static final class FailureWatch implements Job {
        final Job job;
        Exception failure;

        FailureWatch(Job job) {
            this.job = job;
        }

        @Override
        public int[] prompt() {
            return job.prompt();
        }

        @Override
        public void start(State state) {
            job.start(state);
        }

        @Override
        public boolean allPromptLogits() {
            return job.allPromptLogits();
        }

        @Override
        public int next(float[] logits) {
            return job.next(logits);
        }

        @Override
        public void end(Exception failure) {
            this.failure = failure;
            job.end(failure);
        }
    }

    /**
     * Admits waiting jobs while there is room, then runs one forward call over every running
     * sequence. Returns false when there was nothing to run.
     */
    public boolean step() {
        // the budget counts prompt rows only: the running sequences' single tokens are few, and a
        // prompt that had to wait for them to finish would keep the batch from ever filling up
        long promptRows = 0;
        boolean[] prompt = new boolean[maxSequences];
        while (running.size() < maxSequences && !waiting.isEmpty()) {
            Job job = waiting.peek();
            Running r = admit(job, promptRows);
            if (r == NOT_NOW) break;
            waiting.poll();
            if (r == null) continue;
            prompt[running.size()] = true;
            running.add(r);
            promptRows += r.feed.length;
        }
        if (running.isEmpty()) return !waiting.isEmpty();

        List<Model.Step> steps = new ArrayList<>(running.size());
        for (int i = 0; i < running.size(); i++) {
            Running r = running.get(i);
            steps.add(new Model.Step(r.state, r.feed, prompt[i] && r.job.allPromptLogits()));
        }
        List<Model.Outcome> outcomes;
        try {
            outcomes = model.forwardEach(steps);
        } catch (RuntimeException e) {
            for (Running r : running) finish(r, e);
            running.clear();
            return true;
        }
        List<Running> still = new ArrayList<>(running.size());
        for (int i = 0; i < running.size(); i++) {
            Running r = running.get(i);
            if (outcomes.get(i).failure() != null) {
                // this sequence alone: the others' rows never mix with its own
                finish(r, outcomes.get(i).failure());
                continue;
            }
            int next;
            try {
                next = r.job.next(outcomes.get(i).logits());
            } catch (RuntimeException e) {
                finish(r, e);
                continue;
            }
            if (next == Job.END) {
                finish(r, null);
            } else if (r.state.length() >= model.config().maxPositions()) {
                finish(r, new IllegalStateException("the sequence reached the model's max_position_embeddings " + model.config().maxPositions()
                        + "; the job asked for one more token"));
            } else {
                r.feed(next);
                still.add(r);
            }
        }
        running.clear();
        running.addAll(still);
        return true;
    }

    /** Marks a job that must wait for a later step. */
    private static final Running NOT_NOW = new Running(null, null, null);

    /**
     * Starts {@code job} on a state of its own if its prompt fits beside {@code promptRows} prompt
     * rows already in the step (the first prompt of a step always does); {@link #NOT_NOW} if it must
     * wait; null if it ended at once (a rejected prompt).
     */
    private Running admit(Job job, long promptRows) {
        int[] prompt;
        try {
            prompt = job.prompt();
            model.checkPrompt(prompt, "the prompt");
            prompt = prompt.clone();
        } catch (RuntimeException e) {
            job.end(e);
            return null;
        }
        if (promptRows > 0 && promptRows + prompt.length > maxRows) return NOT_NOW;
        State state = idle.isEmpty() ? model.newState() : idle.pop();
        try {
            job.start(state);
        } catch (RuntimeException e) {
            release(state);
            job.end(e);
            return null;
        }
        return new Running(job, state, prompt);
    }

    private void finish(Running r, Exception failure) {
        release(r.state);
        r.job.end(failure);
        SequenceProgress.finished();
    }

    /** Returns a state to the pool, empty and without hooks. */
    private void release(State state) {
        state.hooks().clear();
        state.reset();
        if (idle.size() < maxSequences) idle.push(state);
    }
}
