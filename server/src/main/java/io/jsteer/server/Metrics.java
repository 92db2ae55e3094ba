/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, gauges and latency histograms, written in the Prometheus text exposition
 * format (version 0.0.4) for {@code GET /metrics}.
 */
final class Metrics {
    /** Upper bounds (seconds) of the latency histograms' buckets. */
    private static final double[] BOUNDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    /** Seconds over which {@code jsteer_generation_tokens_per_second} averages. */
    private static final int WINDOW = 10;

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    private final LongAdder steps = new LongAdder();
    private final LongAdder stepSequences = new LongAdder();
    private final AtomicLong lastStepSequences = new AtomicLong();
    private final AtomicLongArray perSecond = new AtomicLongArray(WINDOW + 1);
    private final AtomicLongArray secondOf = new AtomicLongArray(WINDOW + 1);
    private final Histogram requestSeconds = new Histogram();
    private final Histogram firstTokenSeconds = new Histogram();
    private final Histogram queueSeconds = new Histogram();
    private final LongAdder running = new LongAdder();
    private final IntSupplier queued;
    private final int maxBatch;

    Metrics(IntSupplier queued, int maxBatch) {
        this.queued = queued;
        this.maxBatch = maxBatch;
    }

    private static final class Histogram {
        final AtomicLongArray counts = new AtomicLongArray(BOUNDS.length + 1);
        final LongAdder count = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        void observe(double seconds) {
            int b = 0;
            while (b < BOUNDS.length && seconds > BOUNDS[b]) b++;
            counts.incrementAndGet(b);
            count.increment();
            sum.add(seconds);
        }

        void write(StringBuilder out, String name, String help) {
            out.append("# HELP ").append(name).append(' ').append(help).append('\n');
            out.append("# TYPE ").append(name).append(" histogram\n");
            long cumulative = 0;
            for (int b = 0; b < BOUNDS.length; b++) {
                cumulative += counts.get(b);
                out.append(name).append("_bucket{le=\"").append(BOUNDS[b]).append("\"} ").append(cumulative).append('\n');
            }
            cumulative += counts.get(BOUNDS.length);
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(cumulative).append('\n');
            out.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.6f", sum.sum())).append('\n');
            out.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }

    /** A request to {@code endpoint} answered with {@code status}, after {@code nanos}. */
    void request(String endpoint, int status, long nanos) {
        requests.computeIfAbsent(endpoint + "|" + status, k -> new LongAdder()).increment();
        if (endpoint.startsWith("/v1/completions") || endpoint.startsWith("/v1/chat")) requestSeconds.observe(nanos / 1e9);
    }

    void prompt(int tokens) {
        promptTokens.add(tokens);
    }

    void admitted(long queuedNanos) {
        running.increment();
        queueSeconds.observe(queuedNanos / 1e9);
    }

    void firstToken(long nanos) {
        firstTokenSeconds.observe(nanos / 1e9);
    }

    void generated(int tokens) {
        generatedTokens.add(tokens);
        long now = System.currentTimeMillis() / 1000;
        int slot = (int) (now % perSecond.length());
        if (secondOf.get(slot) != now) {
            secondOf.set(slot, now);
            perSecond.set(slot, 0);
        }
        perSecond.addAndGet(slot, tokens);
    }

    void ended(boolean wasRunning) {
        if (wasRunning) running.decrement();
    }

    /** One engine step that advanced {@code sequences} sequences. */
    void step(int sequences) {
        steps.increment();
        stepSequences.add(sequences);
        lastStepSequences.set(sequences);
    }

    String prometheus() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP jsteer_requests_total HTTP requests answered, by endpoint and status.\n# TYPE jsteer_requests_total counter\n");
        new TreeMap<>(requests).forEach((k, v) -> {
            int bar = k.lastIndexOf('|');
            out.append("jsteer_requests_total{endpoint=\"").append(k, 0, bar).append("\",status=\"").append(k.substring(bar + 1)).append("\"} ").append(v.sum()).append('\n');
        });
        counter(out, "jsteer_prompt_tokens_total", "Prompt tokens of admitted requests.", promptTokens.sum());
        counter(out, "jsteer_generation_tokens_total", "Tokens generated.", generatedTokens.sum());
        gauge(out, "jsteer_generation_tokens_per_second", "Tokens generated per second over the last " + WINDOW + " seconds.", tokensPerSecond());
        gauge(out, "jsteer_queue_length", "Sequences waiting to join the batch.", queued.getAsInt());
        gauge(out, "jsteer_running_sequences", "Sequences in the batch.", running.sum());
        gauge(out, "jsteer_batch_capacity", "Most sequences in one batch.", maxBatch);
        gauge(out, "jsteer_batch_occupancy", "Share of the batch the last engine step used.", maxBatch == 0 ? 0 : (double) lastStepSequences.get() / maxBatch);
        counter(out, "jsteer_engine_steps_total", "Batched forward steps run.", steps.sum());
        counter(out, "jsteer_engine_step_sequences_total", "Sequences advanced, summed over steps (divide by steps for the mean batch).", stepSequences.sum());
        requestSeconds.write(out, "jsteer_request_duration_seconds", "Time from receiving a generation request to its last byte.");
        firstTokenSeconds.write(out, "jsteer_time_to_first_token_seconds", "Time from queueing a sequence to its first generated token.");
        queueSeconds.write(out, "jsteer_queue_wait_seconds", "Time a sequence waited before joining the batch.");
        return out.toString();
    }

    private double tokensPerSecond() {
        long now = System.currentTimeMillis() / 1000;
        long total = 0;
        for (int s = 0; s < perSecond.length(); s++) {
            long second = secondOf.get(s);
            if (second < now && second >= now - WINDOW) total += perSecond.get(s);
        }
        return total / (double) WINDOW;
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n").append(name).append(' ')
                .append(value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : String.format(Locale.ROOT, "%.6g", value)).append('\n');
    }
}
