/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A parallel loop over all cores, shared by every kernel.
 *
 * <p>A decoded token runs a few hundred short loops (one per weight matrix, each a few hundred
 * microseconds), so the cost of handing out work matters: waking a parked pool thread takes tens
 * of microseconds. Workers here spin briefly after each loop before parking, so back-to-back
 * loops start within a microsecond, and the calling thread takes chunks too.
 *
 * <p>Chunks are claimed from a shared counter, largest first (guided scheduling): each claim
 * takes {@code 1 / (2 * threads)} of what is left, but at least the loop's grain. A core slowed
 * by other work simply takes fewer, few chunks means few restarts of the hardware prefetcher on
 * a new stretch of memory, and the last chunks are small, so the cores finish together. With
 * equal chunks of 1/16 of a matrix, the caller of a Pythia-160M decoding loop spent 0.4-0.7 ms
 * of a 10-12 ms token waiting for the other core's last chunk; guided chunks of at least 4 rows
 * cut that to 0.2 ms and the token by 2-6%.
 *
 * <p>Independent loops can run as one ({@link #forAll}): a decoded layer of Pythia-160M hands
 * out three pieces of work instead of six (its attention and MLP branches side by side), and
 * each core goes on to the next loop's chunks instead of waiting for the other at the end of
 * every matrix: 1.5-2.5% of a Pythia token, paired against a build that ran them one by one.
 *
 * <p>One loop runs at a time: a loop started while another is running (from another thread, or
 * nested inside a loop body) runs on its caller's thread alone. The thread count is the number of
 * available processors, or the system property {@value #THREADS_PROPERTY}.
 */
public final class Parallel {
    /** System property overriding the number of threads (caller included). */
    public static final String THREADS_PROPERTY = "jsteer.threads";
    /** How long an idle worker spins for the next loop before parking. */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    /** Body of a parallel loop: processes indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        /** Processes indices {@code [from, to)}; called from several threads at once, on disjoint ranges. */
        void run(int from, int to);
    }

    /**
     * A loop body with its own index space and grain, for {@link #forAll}: independent loops
     * (products of one layer that do not need each other's results) then share one hand-out.
     */
    public record Loop(int n, int grain, Range body) {
        public Loop {
            if (grain < 1) throw new IllegalArgumentException("grain must be positive, got " + grain);
            if (n < 0) throw new IllegalArgumentException("loop size must not be negative, got " + n);
        }
    }

    /**
     * One hand-out: its loops laid end to end in one index space. Workers that arrive after it is
     * exhausted find no chunk left.
     */
    private static final class Job {
        final Loop[] loops;
        /** Where each loop starts in the joint index space; {@code starts[loops.length] == n}. */
        final int[] starts;
        final int n;
        /**
         * Most of each loop one chunk takes, its share per thread: chunks are sized on the work
         * left in all loops (few chunks, few restarts of the prefetcher), but a short loop of
         * costly indices, say 12 attention heads before 3000 activations, is still split.
         */
        final int[] shares;
        /**
         * Which hand-out this is, counted from 1: workers remember the last one they joined by
         * number, not by reference, so a finished loop's arrays are not kept alive (and promoted
         * to the old generation by the next collection).
         */
        long number;
        /** Start of the first unclaimed chunk. */
        final AtomicInteger next = new AtomicInteger();
        /** Indices not yet processed: the loop is done at zero. */
        final AtomicInteger pending;
        volatile Throwable failure;

        Job(Loop[] loops) {
            this.loops = loops;
            this.starts = new int[loops.length + 1];
            for (int i = 0; i < loops.length; i++) starts[i + 1] = Math.addExact(starts[i], loops[i].n());
            this.n = starts[loops.length];
            this.shares = new int[loops.length];
            for (int i = 0; i < loops.length; i++) shares[i] = (loops[i].n() + THREADS - 1) / THREADS;
            this.pending = new AtomicInteger(n);
        }

        void work() {
            int part = 0;
            for (int from; (from = next.get()) < n; ) {
                while (from >= starts[part + 1]) part++;
                Loop loop = loops[part];
                int end = starts[part + 1];
                int to = (int) Math.min(end, (long) from + Math.max(loop.grain(), Math.min(shares[part], (n - from) / (2 * THREADS))));
                if (!next.compareAndSet(from, to)) continue;
                try {
                    loop.body().run(from - starts[part], to - starts[part]);
                } catch (Throwable e) {
                    if (failure == null) failure = e;
                } finally {
                    pending.addAndGet(from - to);
                }
            }
        }
    }

    private static final int THREADS = threadsFromProperty();
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static volatile Job current;
    /** Hand-outs so far; written only by the thread holding {@link #BUSY}. */
    private static long handOuts;
    private static final Worker[] WORKERS = new Worker[THREADS - 1];

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i);
            WORKERS[i].start();
        }
    }

    private Parallel() {}

    /** Number of threads loops run on, the caller's included. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [0, n)} on all threads in chunks of at least {@code grain}
     * indices (the last may be shorter), largest first, returning when every chunk is done. The
     * first exception thrown by a chunk is rethrown here after the others finish.
     */
    public static void forRange(int n, int grain, Range body) {
        forAll(new Loop(n, grain, body));
    }

    /**
     * Runs independent loops as one, as {@link #forRange} runs one: chunks are handed out from
     * the first loop's indices to the last one's, so the cores pass from one loop to the next
     * without waiting for each other in between. The loops may run in any order and at once.
     */
    public static void forAll(Loop... loops) {
        long n = 0;
        for (Loop loop : loops) n += loop.n();
        if (n == 0) return;
        if (WORKERS.length == 0 || (loops.length == 1 && n <= loops[0].grain()) || !BUSY.compareAndSet(false, true)) {
            for (Loop loop : loops) if (loop.n() > 0) loop.body().run(0, loop.n());
            return;
        }
        Job job = null;
        try {
            job = new Job(loops);
            job.number = ++handOuts;
            current = job;
            for (Worker w : WORKERS) if (w.sleeping) LockSupport.unpark(w);
            job.work();
            for (int spins = 0; job.pending.get() > 0; spins++) {
                if ((spins & 1023) == 1023) Thread.yield();
                else Thread.onSpinWait();
            }
        } finally {
            current = null;
            BUSY.set(false);
        }
        Throwable e = job.failure;
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException(e);
    }

    private static int threadsFromProperty() {
        String p = System.getProperty(THREADS_PROPERTY);
        if (p == null) return Runtime.getRuntime().availableProcessors();
        try {
            int t = Integer.parseInt(p.trim());
            if (t >= 1) return t;
        } catch (NumberFormatException e) {
            // reported below with the accepted range
        }
        throw new IllegalArgumentException("-D" + THREADS_PROPERTY + "=" + p + " must be a positive integer");
    }

    private static final class Worker extends Thread {
        volatile boolean sleeping;

        Worker(int i) {
            super("jsteer-kernel-" + (i + 1));
            setDaemon(true);
        }

        /*
         * A parked or spinning worker holds no reference to a loop: the loop is only ever in a
         * local of joinNew, whose frame is gone by then, so its arrays can die young.
         */
        @Override
        public void run() {
            long done = 0;
            while (true) {
                long joined = joinNew(done);
                if (joined != done) {
                    done = joined;
                    continue;
                }
                if (!spinForWork(done)) {
                    sleeping = true;
                    // re-checked after announcing sleep: a caller that published before seeing the flag is not missed
                    if (!isNew(current, done)) LockSupport.park(this);
                    sleeping = false;
                }
            }
        }

        /** Works on the current loop unless it is loop {@code done}; returns the number of the loop worked on, else {@code done}. */
        private static long joinNew(long done) {
            Job job = current;
            if (!isNew(job, done)) return done;
            job.work();
            return job.number;
        }

        private static boolean isNew(Job job, long done) {
            return job != null && job.number != done;
        }

        /** Spins until a new loop appears (true) or the spin budget runs out (false). */
        private static boolean spinForWork(long done) {
            long deadline = System.nanoTime() + SPIN_NANOS;
            for (int i = 0; ; i++) {
                if (isNew(current, done)) return true;
                if ((i & 63) == 63 && System.nanoTime() > deadline) return false;
                Thread.onSpinWait();
            }
        }
    }
}
