/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one thread that runs the {@link Engine}: it loops {@link Engine#step()} while any sequence
 * is waiting or running and parks when there is none. Requests' jobs join and leave the batch
 * between steps (continuous batching). The queue of jobs not yet admitted is bounded: past
 * {@code maxQueue}, {@link #submit} refuses with 429.
 */
final class Scheduler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Scheduler.class.getName());
    /** How long the idle engine thread sleeps before looking again (a submit wakes it at once). */
    private static final long IDLE_PARK_NANOS = Duration.ofMillis(200).toNanos();

    private final Engine engine;
    private final int maxQueue;
    private final Metrics metrics;
    private final Thread thread;
    private final Set<CompletionJob> live = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private int stepSequences;

    Scheduler(Model model, int maxBatch, int maxQueue) {
        this.engine = new Engine(model, maxBatch);
        this.maxQueue = maxQueue;
        this.metrics = new Metrics(engine::waiting, maxBatch);
        this.thread = Thread.ofPlatform().name("jsteer-engine").daemon(true).unstarted(this::loop);
        thread.start();
    }

    Metrics metrics() {
        return metrics;
    }

    int maxBatch() {
        return engine.maxSequences();
    }

    /**
     * Queues all of {@code jobs} or none.
     *
     * @throws ApiException 429 when the queue has no room for them, 503 while shutting down
     */
    synchronized void submit(List<CompletionJob> jobs) {
        if (stopping) throw new ApiException(503, "server_shutting_down", null, "the server is shutting down");
        if (engine.waiting() + jobs.size() > maxQueue) {
            throw new ApiException(429, "rate_limit_exceeded", null, "the server is busy: " + engine.waiting() + " sequences are queued (at most " + maxQueue + "); retry shortly");
        }
        for (CompletionJob j : jobs) {
            live.add(j);
            engine.submit(new Tracked(j));
        }
        LockSupport.unpark(thread);
    }

    /** Forgets a job once it has ended, and counts the sequences each step advances. */
    private final class Tracked implements Job {
        final CompletionJob job;

        Tracked(CompletionJob job) {
            this.job = job;
        }

        @Override
        public int[] prompt() {
            return job.prompt();
        }

        @Override
        public void start(io.jsteer.transformer.State state) {
            job.start(state);
        }

        @Override
        public int next(float[] logits) {
            stepSequences++;
            return job.next(logits);
        }

        @Override
        public void end(Exception failure) {
            live.remove(job);
            job.end(failure);
        }
    }

    private void loop() {
        while (!stopping || !live.isEmpty()) {
            boolean worked;
            try {
                worked = engine.step();
            } catch (Throwable t) {
                // the engine ends the jobs of a failed forward pass itself; this is anything else
                LOG.log(Level.SEVERE, "engine step failed; cancelling the running requests", t);
                live.forEach(CompletionJob::cancel);
                worked = false;
                LockSupport.parkNanos(IDLE_PARK_NANOS);
            }
            if (stepSequences > 0) metrics.step(stepSequences);
            stepSequences = 0;
            if (!worked) LockSupport.parkNanos(IDLE_PARK_NANOS);
        }
    }

    /** Sequences queued or running. */
    int live() {
        return live.size();
    }

    /**
     * Stops taking jobs, lets those queued or running finish for up to {@code grace}, cancels the
     * rest and stops the engine thread.
     */
    void shutdown(Duration grace) {
        synchronized (this) {
            stopping = true;
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (!live.isEmpty() && System.nanoTime() < deadline) sleep(20);
        live.forEach(CompletionJob::cancel);
        LockSupport.unpark(thread);
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
